"""Every Debian tally sheet reproduces devotee's official beat matrix and winner."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from storyline.elections import DebianDetails, count, pairwise, read_debian

from .conftest import DATA, load_json, require_data

EXPECTED = load_json("expected.json") if DATA.exists() else {}
VOTES: list[dict[str, Any]] = EXPECTED.get("debian", [])
EXTRA: list[dict[str, Any]] = EXPECTED.get("debian_extra", [])


@dataclass
class Official:
    """What a devotee results page states."""

    matrix: dict[tuple[int, int], int]
    quorum: float | None
    majorities: dict[int, Fraction]
    dropped: set[int]
    winners: list[int]


def parse_results(path: Path) -> Official:
    text = path.read_text(encoding="utf-8")
    matrix: dict[tuple[int, int], int] = {}
    header = re.search(r"\n\s+((?:\d+\s+)+)\n\s+(?:===\s+)+\n", text)
    assert header is not None
    columns = [int(c) for c in header.group(1).split()]
    for row in re.finditer(r"^Option (\d+)((?:\s+\d+)+)\s*$", text, re.MULTILINE):
        i = int(row.group(1))
        # Each row leaves its diagonal cell blank.
        others = [j for j in columns if j != i]
        values = [int(v) for v in row.group(2).split()]
        assert len(values) == len(others)
        for j, value in zip(others, values, strict=True):
            matrix[i, j] = value
    quorum = re.search(r"Reached quorum: \d+ > ([\d.]+)", text)
    majorities = {
        int(m.group(1)): Fraction(int(m.group(2)))
        for m in re.finditer(
            r"Option (\d+)[^\n]*Majority[^\n]*[<>]=? (\d+)\s*$", text, re.MULTILINE
        )
    }
    dropped = {int(m.group(1)) for m in re.finditer(r"Dropping Option (\d+)", text)}
    tail = text.split("The winner", 1)[1]
    winners = [int(m.group(1)) for m in re.finditer(r"Option (\d+) \"", tail)]
    return Official(
        matrix, float(quorum.group(1)) if quorum else None, majorities, dropped, winners
    )


@pytest.mark.parametrize("vote", VOTES, ids=lambda v: v["tally"])
def test_official_matrix_and_winner(vote: dict[str, Any]) -> None:
    tally = read_debian(DATA / "debian" / vote["tally"])
    official = parse_results(DATA / "debian" / vote["results"])
    assert list(tally.options) == vote["options"]
    assert tally.profile.num_voters == vote["ballots"]
    d = pairwise(tally.profile).d
    assert official.matrix
    for (i, j), votes in official.matrix.items():
        assert d[i - 1, j - 1] == votes, (i, j)
    assert len(official.matrix) == len(tally.options) * (len(tally.options) - 1)

    majorities = {tally.options[i - 1]: n for i, n in official.majorities.items()}
    result = count(
        tally.profile,
        "debian",
        default_option=tally.default_option,
        quorum=official.quorum,
        majorities=majorities,
    )
    details = result.details
    assert isinstance(details, DebianDetails)
    # The reader's own reading of "[3:1 majority needed]" agrees with devotee.
    for option, ratio in tally.majorities.items():
        if ratio != 1:
            assert majorities[option] == ratio
    assert {tally.options.index(o) + 1 for o in details.dropped} == official.dropped
    assert sorted(vote["dropped_options"]) == sorted(official.dropped)
    assert details.winners == {tally.options[i - 1] for i in official.winners}
    assert result.ranking[0] == details.winners
    assert sorted(details.winners) == sorted(vote["official_winners"])


@pytest.mark.parametrize("vote", EXTRA, ids=lambda v: v["tally"])
def test_votes_without_results_files(vote: dict[str, Any]) -> None:
    tally = read_debian(DATA / "debian" / vote["tally"])
    if "ballots" in vote:
        assert tally.profile.num_voters == vote["ballots"]
    matrix = pairwise(tally.profile)
    if "official_matrix_row_major" in vote:
        expected = vote["official_matrix_row_major"]
        n = len(tally.options)
        assert [[None if i == j else int(matrix.d[i, j]) for j in range(n)] for i in range(n)] == (
            expected
        )
    result = count(tally.profile, "debian", default_option=tally.default_option)
    assert result.winners(1).elected == (vote["official_winner"],)


def test_quorum_follows_the_developer_count() -> None:
    # The results pages state R = 3/2 * sqrt(number of developers).
    official = parse_results(require_data(DATA / "debian" / "2006" / "vote_002_results.txt"))
    assert official.quorum is not None
    developers = (official.quorum / 1.5) ** 2
    assert math.isclose(1.5 * math.sqrt(round(developers)), official.quorum, rel_tol=1e-9)
