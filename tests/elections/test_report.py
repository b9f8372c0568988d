"""The analysis report, in Markdown and HTML, and the `elections analyze` command."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli.main import app
from storyline.elections import proportional
from storyline.elections.methods import schulze
from storyline.elections.profile import Profile, pairwise
from storyline.elections.report import (
    analyze_election,
    build_report,
    render_html,
    render_markdown,
)

from .conftest import DATA


def ranked(order: str, cands: str = "abcdexyzuv") -> tuple[int, ...]:
    ranks = [len(cands)] * len(cands)
    for place, c in enumerate(order, start=1):
        ranks[cands.index(c)] = place
    return tuple(ranks)


@pytest.fixture
def sixty_forty() -> Profile:
    return Profile.from_weighted(list("abcdexyzuv"), [(ranked("abcde"), 60), (ranked("xyzuv"), 40)])


def test_markdown_report_has_every_section(sixty_forty: Profile) -> None:
    result = schulze(pairwise(sixty_forty))
    analysis = analyze_election(
        sixty_forty, result, 5, title="Doc | example", groups={"Bloc": ["x", "y"]}
    )
    md = render_markdown(build_report(analysis))
    assert md.startswith("# Election analysis: Doc | example\n")
    for title in (
        "Ranking",
        "Condorcet spread",
        "Pairwise matrix",
        "Proportional comparison",
        "Partisan pairs",
        "Company blocks",
    ):
        assert f"\n## {title}\n" in md
    assert "| 1 | a | elected |" in md
    assert "![Condorcet spread](spread.svg)" in md
    assert "Proportional mode would elect x, y instead of d, e." in md
    assert "| a / b | 60 | 60.00% |" in md
    assert "| Bloc | x, y | 40 | 40.00% |" in md


def test_html_report_is_escaped_well_formed_xml(sixty_forty: Profile) -> None:
    result = schulze(pairwise(sixty_forty))
    analysis = analyze_election(sixty_forty, result, 5, title="<script>")
    page = render_html(build_report(analysis), image_format="png")
    assert "<script>" not in page.split("<title>")[1]
    root = ET.fromstring(page.split("\n", 1)[1])  # without the doctype
    assert root.find(".//img[@src='spread.png']") is not None
    assert "Company blocks" not in page


def test_ties_pair_limits_and_failed_searches_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = Profile.from_rankings(list("abc|"), [(1, 2, 3, 4), (2, 1, 3, 4), (1, 1, 1, 1)])
    monkeypatch.setattr(proportional, "MAX_VISITS", 0)
    result = schulze(pairwise(profile))
    md = render_markdown(build_report(analyze_election(profile, result, 1), max_pairs=1))
    assert "A tie crosses the seat boundary: 1 seat(s) among a, b." in md
    assert "| a | tied for the last seat |" in md
    assert "several unbeaten sets" in md
    assert "A tie prevents a definite comparison." in md
    assert "gave up after 500 sets" in md
    assert "more pairs with fewer ballots are not shown" not in md
    assert "\\|" in md  # the candidate named "|" is escaped in tables


def test_the_same_winners_and_no_partisan_pair() -> None:
    profile = Profile.from_rankings(list("abc"), [(1, 2, 2), (1, 3, 2)])
    result = schulze(pairwise(profile))
    md = render_markdown(build_report(analyze_election(profile, result, 1), rounding="round"))
    assert "Proportional mode elects the same candidates." in md
    assert "| a / c | 1 | 50.00% |" in md
    # b has no place on any ballot here: its mean position is shown as "-".
    unplaced = Profile.from_rankings(list("abc"), [(1, None, 2)])
    md = render_markdown(build_report(analyze_election(unplaced, schulze(pairwise(unplaced)), 1)))
    assert "| b | 0 | 0 | - |" in md
    alone = Profile.from_rankings(list("abc"), [(1, 2, 2), (1, 1, 1)])
    md = render_markdown(build_report(analyze_election(alone, schulze(pairwise(alone)), 1)))
    assert "No ballot puts a pair above everyone else." in md
    many = Profile.from_rankings(list("abcd"), [(1, 2, 3, 4), (3, 4, 1, 2)])
    md = render_markdown(
        build_report(analyze_election(many, schulze(pairwise(many)), 1), max_pairs=1)
    )
    assert "1 more pairs with fewer ballots are not shown." in md


KUBERNETES_2017 = DATA / "civs" / "kubernetes-steering" / "2017" / "BALLOTS.csv"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["elections", "analyze", *args])
    return result.exit_code, result.output


def test_analyze_writes_reports_and_charts(tmp_path: Path) -> None:
    if not KUBERNETES_2017.exists():
        pytest.skip("shared election data not available")
    code, output = run(
        str(KUBERNETES_2017),
        "--seats",
        "6",
        "--format",
        "both",
        "--out",
        str(tmp_path),
        "--group",
        "Google=Michael Rubin;Phillip Whitrock",
    )
    assert code == 0, output
    names = {"spread.svg", "spread.png", "matrix.svg", "matrix.png", "report.md", "report.html"}
    assert {p.name for p in tmp_path.iterdir()} == names
    md = (tmp_path / "report.md").read_text()
    # The official CIVS ranking of 2017 (RESULTS.md), winners first.
    assert "| 1 | Derek Carr | elected |" in md
    assert "| 7 | Aaron Crickenberger |  |" in md
    assert "| Google | Michael Rubin, Phillip Whitrock |" in md
    assert "Derek Carr" in (tmp_path / "spread.svg").read_text()


def test_analyze_without_png_and_with_an_explicit_format(tmp_path: Path) -> None:
    ballots = tmp_path / "b.csv"
    ballots.write_text("A,B,C\n1,2,3\n2,1,3\n1,2,3\n")
    code, output = run(
        str(ballots),
        "--seats",
        "1",
        "--format",
        "html",
        "--out",
        str(tmp_path / "o"),
        "--input-format",
        "civs",
        "--no-png",
        "--method",
        "minimax-pm",
    )
    assert code == 0, output
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "spread.svg",
        "matrix.svg",
        "report.html",
    }
    code, output = run(str(ballots), "--seats", "1", "--out", str(tmp_path / "md"))
    assert code == 0, output
    assert (tmp_path / "md" / "report.md").exists()
    assert not (tmp_path / "md" / "report.html").exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("A,B\n1,2\n", ["--seats", "3"], "3 seats for 2 candidates"),
        ("A,B\n", ["--seats", "1"], "no ballots"),
        ("A,B\n1\n", ["--seats", "1"], "error:"),
        ("A,B\n1,2\n", ["--seats", "1", "--group", "X=A;Z"], "unknown candidate(s) in --group: Z"),
        ("A,B\n1,2\n", ["--seats", "1", "--group", "nogroup"], "NAME=CANDIDATE"),
        ("A,B\n1,2\n", ["--seats", "1", "--method", "borda"], "unknown method"),
        ("A,B\n1,2\n", ["--seats", "1", "--input-format", "xls"], "unknown format"),
    ],
)
def test_analyze_rejects_bad_input(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    ballots = tmp_path / "b.csv"
    ballots.write_text(content)
    code, output = run(str(ballots), "--out", str(tmp_path), *args)
    assert code == 2
    assert message in " ".join(output.split())
