"""The results document of an election held in the tracker."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storyline.cli.elections import app
from storyline.elections import Profile, count, read_civs, read_debian
from storyline.elections.formats.debian import DEBIAN_UNRANKED
from storyline.voting import results

from ..elections.conftest import DATA, load_json
from ..elections.test_golden_debian import parse_results

EXPECTED = load_json("expected.json") if DATA.exists() else {}
KUBERNETES: list[dict[str, Any]] = EXPECTED.get("kubernetes_steering_civs", []) + EXPECTED.get(
    "kubernetes_steering_elekto", []
)
DEBIAN: list[dict[str, Any]] = EXPECTED.get("debian", [])
SVG = "{http://www.w3.org/2000/svg}"


def stored(profile: Profile) -> list[str]:
    """The profile's ballots as the tracker stores them, one string per ballot.

    Ranks become 1, 2, ... in each ballot's order and unranked candidates the
    number of candidates, which changes no comparison.
    """
    n = profile.num_candidates
    out = []
    for ballot in profile.expanded():
        ranked = sorted({r for r in ballot.ranks if r is not None and r < DEBIAN_UNRANKED})
        dense = {r: i + 1 for i, r in enumerate(ranked)}
        assert len(ranked) <= n
        out.append(",".join("-" if r is None else str(dense.get(r, n)) for r in ballot.ranks))
    return out


@pytest.mark.parametrize("entry", KUBERNETES, ids=lambda e: e["ballots_file"])
def test_kubernetes_official_rankings(entry: dict[str, Any]) -> None:
    profile = read_civs(DATA / entry["ballots_file"], proportional=False)
    irv = "Condorcet-IRV" in entry["official_method"]
    document = results.count(
        candidates=profile.candidates,
        ballots=stored(profile),
        method="condorcet-irv" if irv else "schulze",
        seats=entry["seats"],
        proportional=None,
        # Those polls closed before CIVS changed Condorcet-IRV's tie rule in 2024.
        tie_rule="pre-2024" if irv else "current",
    )
    assert document["ballots"] == entry["ballots"]
    assert [c for tier in document["ranking"] for c in tier] == entry["official_ranking"]
    assert all(len(tier) == 1 for tier in document["ranking"])
    if "official_winners" in entry:
        assert document["winners"] == entry["official_winners"]
        assert document["tie"] is None
        assert document["tie_break"] is None


@pytest.mark.parametrize("vote", DEBIAN, ids=lambda v: v["tally"])
def test_debian_official_winners(vote: dict[str, Any]) -> None:
    tally = read_debian(DATA / "debian" / vote["tally"])
    official = parse_results(DATA / "debian" / vote["results"])
    document = results.count(
        candidates=tally.profile.candidates,
        ballots=stored(tally.profile),
        method="debian",
        seats=1,
        proportional=None,
        default_option=tally.default_option,
        quorum=official.quorum,
        majorities={tally.options[i - 1]: n for i, n in official.majorities.items()},
    )
    assert document["ballots"] == vote["ballots"]
    assert sorted(document["dropped"]) == sorted(tally.options[i - 1] for i in official.dropped)
    assert sorted(document["ranking"][0]) == sorted(vote["official_winners"])


def test_the_head_is_what_the_command_line_prints(tmp_path: Path) -> None:
    entry = KUBERNETES[0] if KUBERNETES else pytest.skip("shared election data not found")
    path = DATA / entry["ballots_file"]
    profile = read_civs(path, proportional=False)
    document = results.count(
        candidates=profile.candidates,
        ballots=stored(profile),
        method="minimax-pm",
        seats=entry["seats"],
        proportional=None,
    )
    runner = CliRunner()
    out = runner.invoke(
        app, ["count", str(path), "--json", "--method", "minimax-pm", "--seats", "6"]
    ).output
    printed = json.loads(out)
    assert {key: document[key] for key in printed} == printed

    for criterion in ("best", "combined"):
        document = results.count(
            candidates=profile.candidates,
            ballots=stored(profile),
            method="schulze",
            seats=6,
            proportional=criterion,
        )
        out = runner.invoke(
            app, ["count", str(path), "--json", "--seats", "6", "--proportional", criterion]
        ).output
        printed = json.loads(out)
        assert {key: document[key] for key in printed} == printed
        assert document["rule"] == "schulze"
        assert document["proportional"]["committee"] == printed["winners"]


CANDIDATES = ["Ann", "Bob", "Cy", "Dee"]


def document(ballots: list[str], **options: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"method": "schulze", "seats": 2, "proportional": None}
    return results.count(candidates=CANDIDATES, ballots=ballots, **settings | options)


def test_a_tie_across_the_last_seat_is_reported_then_drawn() -> None:
    # Bob and Cy are tied behind Ann for the second seat.
    doc = document(["1,2,2,4", "1,2,2,4", "2,1,3,4", "2,3,1,4"], seed=7)
    assert doc["ranking"] == [["Ann"], ["Bob", "Cy"], ["Dee"]]
    assert doc["winners"] == ["Ann"]
    assert doc["tie"] == {"candidates": ["Bob", "Cy"], "seats": 1}
    draw = doc["tie_break"]
    assert draw["rule"] == "lottery"
    assert draw["seed"] == 7
    assert sorted(draw["drawn"]) == ["Bob", "Cy"]
    assert draw["winners"] == ["Ann", draw["drawn"][0]]
    # The draw is a function of the seed alone.
    again = document(["2,3,1,4", "1,2,2,4", "2,1,3,4", "1,2,2,4"], seed=7)
    assert again == doc
    assert doc["proportional"]["tied"] == ["Bob", "Cy"]
    assert doc["proportional"]["changed"] is None


def test_no_opinion_takes_a_candidate_out_of_the_ballot_comparisons() -> None:
    doc = document(["1,-,2,4", "-,1,2,4", "2,1,-,4"], seats=1)
    ann, bob, cy, dee = range(4)
    matrix = doc["pairwise"]
    assert matrix[ann][bob] == 0
    assert matrix[bob][ann] == 1
    assert matrix[ann][cy] == 1
    assert matrix[cy][ann] == 0
    assert matrix[bob][cy] == 1
    assert matrix[dee][ann] == 0
    assert doc["ballots"] == 3
    # A "no opinion" has no position in the spread: Cy is placed on two ballots.
    row = doc["spread"]["candidates"].index("Cy")
    assert sum(doc["spread"]["counts"][row]) == 2


def test_every_section_is_json_and_reproducible() -> None:
    ballots = ["1,2,3,4", "2,1,3,4", "3,1,2,4", "1,1,4,4", "4,3,2,1", "1,2,-,4"]
    doc = document(ballots, method="mam", seed=3, groups={"red": ["Ann", "Bob"], "solo": ["Cy"]})
    assert json.loads(json.dumps(doc)) == doc
    assert doc == document(
        list(reversed(ballots)),
        method="mam",
        seed=3,
        groups={"red": ["Ann", "Bob"], "solo": ["Cy"]},
    )
    assert set(doc["methods"]) == {"schulze", "ranked-pairs", "mam", "minimax-pm", "condorcet-irv"}
    assert doc["methods"]["mam"]["ranking"] == doc["ranking"]
    assert doc["methods"]["mam"]["seed"] == 3
    assert doc["blocks"] == [{"group": "red", "candidates": ["Ann", "Bob"], "ballots": 4}]
    assert {"pair": ["Bob", "Ann"], "ballots": 4} in doc["pairs"]
    assert doc["spread"]["positions"][:3] == [1.0, 1.5, 2.0]


@pytest.mark.parametrize(
    ("ballot", "message"),
    [("1,2,3", "3 values for 4"), ("1,2,3,5", "'5'"), ("1,x,3,4", "'x'"), ("0,1,2,3", "'0'")],
)
def test_malformed_stored_ballots_are_refused(ballot: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        document([ballot])


def test_no_ballots_give_an_empty_document() -> None:
    doc = document([])
    assert doc["ballots"] == 0
    assert doc["proportional"] is None
    assert doc["pairs"] == []


def test_ballot_file_round_trips_and_says_nothing_about_casting_order(tmp_path: Path) -> None:
    ballots = ["2,1,3,4", "1,2,-,4", "2,1,3,4", "4,4,1,4", "1,1,2,4"]
    text = results.ballot_file(CANDIDATES, ballots)
    assert text == results.ballot_file(CANDIDATES, list(reversed(ballots)))
    lines = text.splitlines()
    assert lines[0] == "Ann,Bob,Cy,Dee"
    assert len(lines) == 1 + len(ballots)
    assert "1,2,No opinion,4" in lines
    path = tmp_path / "civs_ballots.csv"
    path.write_text(text, encoding="utf-8")
    profile = read_civs(path, proportional=False)
    assert profile == results.parse_ballots(CANDIDATES, ballots)
    for method in ("schulze", "mam"):
        doc = document(ballots, method=method, seed=5)
        assert count(profile, method, seed=5).tiers() == doc["ranking"]


def test_charts_are_svg_named_for_screen_readers() -> None:
    doc = document(["1,2,3,4", "2,1,3,4", "1,3,2,4", "-,1,2,3"])
    svgs = results.charts(doc)
    assert set(svgs) == {"spread", "matrix"}
    for name, svg in svgs.items():
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        title = root.find(f"{SVG}title")
        desc = root.find(f"{SVG}desc")
        assert title is not None
        assert title.text
        assert desc is not None
        assert "Ann" in (desc.text or "")
        assert root.get("aria-labelledby") == title.get("id") == f"chart-{name}-title"
        assert root.get("aria-describedby") == desc.get("id")
    texts = {"".join(t.itertext()) for t in ET.fromstring(svgs["matrix"]).iter(f"{SVG}text")}
    assert {"Ann", "Dee", "3", "0"} <= texts


def test_charts_draw_only_what_is_asked_and_each_document_once() -> None:
    doc = document(["1,2,3,4", "2,1,3,4", "4,3,2,1"])
    only = results.charts(doc, ("matrix",))
    assert set(only) == {"matrix"}
    # The same document again is the drawing kept, not a new one...
    assert results.charts(doc, ("matrix",))["matrix"] is only["matrix"]
    # ...and another document (one more ballot) is drawn anew.
    other = results.charts(document(["1,2,3,4", "2,1,3,4", "4,3,2,1", "4,3,2,1"]), ("matrix",))
    assert other["matrix"] != only["matrix"]
