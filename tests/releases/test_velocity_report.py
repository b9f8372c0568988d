"""`storyline velocity report`: the arithmetic, the spec file, the JSON and the charts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storyline.cli.main import app
from storyline.errors import InvalidInput
from storyline.releases.velocity.scores import MilestoneScore, rounded, score_milestones
from storyline.releases.velocity.spec import load_spec, parse_spec
from tests.releases.gitrepo import Repo

SVG = "{http://www.w3.org/2000/svg}"


def test_the_published_nova_figures() -> None:
    # grizzly-1 549, grizzly-2 465, icehouse-1 548, icehouse-2 282: "61% of
    # the expected result".
    first, second = score_milestones([549, 465], [548, 282])
    assert first == MilestoneScore(1, 549, 548)
    assert second.expected == pytest.approx(465 * 548 / 549)
    assert second.score == pytest.approx(282 / (465 * 548 / 549) * 100)
    assert rounded(second.score, "%") == "61%"
    assert rounded(second.expected) == "464"


def test_growth_scales_every_later_milestone() -> None:
    scores = score_milestones([100, 200, 50], [150, 150, 75])
    assert [s.expected for s in scores] == [None, 300.0, 75.0]
    assert [s.score for s in scores] == [None, 50.0, 100.0]


def test_edge_cases_have_no_score_rather_than_a_made_up_one() -> None:
    # No baseline for the growth: nothing is expected.
    assert [(s.expected, s.score) for s in score_milestones([0, 10], [5, 5])] == [
        (None, None),
        (None, None),
    ]
    # Nothing expected (baseline milestone empty, or no growth at all).
    assert score_milestones([10, 0], [10, 3])[1].score is None
    assert score_milestones([10, 5], [0, 3])[1] == MilestoneScore(2, 5, 3, 0.0, None)
    # A cycle under way: only its milestones are scored.
    assert len(score_milestones([1, 2, 3], [1])) == 1
    with pytest.raises(ValueError, match="milestones"):
        score_milestones([1], [1, 2])


def test_display_rounds_halves_up_and_json_keeps_precision() -> None:
    assert rounded(60.5, "%") == "61%"
    assert rounded(2.5) == "3"
    assert rounded(None) == "-"
    entry = score_milestones([3, 1], [1, 1])[1].as_json()
    assert entry["expected"] == 1 / 3
    assert entry["score"] == 1 / (1 / 3) * 100


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, ["velocity", "report", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


NOVA = """
baseline = "grizzly"
current = "icehouse"

[projects.nova]
grizzly = [549, 465]
icehouse = [548, 282]
"""


def test_json_has_exactly_the_documented_shape(tmp_path: Path) -> None:
    document = json.loads(_run(str(_write(tmp_path, NOVA)), "--json"))
    expected = 465 * (548 / 549)
    assert document == {
        "projects": {
            "nova": {
                "milestones": [
                    {"milestone": 1, "baseline": 549, "current": 548},
                    {
                        "milestone": 2,
                        "baseline": 465,
                        "current": 282,
                        "expected": expected,
                        "score": 282 / expected * 100,
                    },
                ]
            }
        }
    }


def test_text_report_rounds_for_people(tmp_path: Path) -> None:
    output = _run(str(_write(tmp_path, NOVA)))
    assert "nova: icehouse against grizzly" in output
    row = next(line for line in output.splitlines() if " 282 " in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == ["2", "465", "282", "464", "61%"]


@pytest.fixture
def project(tmp_path: Path) -> Repo:
    """Tags for two cycles: 1.0, then 2.0.b1 (3 commits) and 2.0.b2 (4, one
    of them on a merged branch); 2.0, then 3.0.b1 (6) and 3.0.b2 (2)."""
    r = Repo(tmp_path / "repos" / "project")
    r.commit("start")
    r.tag("1.0")
    r.commit("a", 3)
    r.tag("2.0.b1")
    r.commit("b", 3)
    r.git("checkout", "--quiet", "-b", "topic")
    r.commit("topic")
    r.git("checkout", "--quiet", "master")
    r.merge("topic")
    r.tag("2.0.b2")
    r.commit("c", 2)
    r.tag("2.0")
    r.commit("d", 6)
    r.tag("3.0.b1")
    r.commit("e", 2)
    r.tag("3.0.b2")
    return r


def test_repositories_bare_or_not_and_counts_side_by_side(project: Repo, tmp_path: Path) -> None:
    bare = tmp_path / "repos" / "other.git"
    project.git("clone", "--quiet", "--bare", str(project.path), str(bare))
    spec = _write(
        tmp_path,
        """
baseline = "one"
current = "two"

[projects.project]
repo = "repos/project"
one = ["1.0", "2.0.b1", "2.0.b2"]
two = ["2.0", "3.0.b1", "3.0.b2"]

[projects."group/bare"]
repo = "repos/other.git"
one = ["1.0", "2.0.b1", "2.0.b2"]
two = ["2.0", "3.0.b1"]

[projects.mixed]
repo = "repos/other.git"
one = [10, 20, 30]
two = ["2.0", "3.0.b1", "3.0.b2"]
""",
    )
    document = json.loads(_run(str(spec), "--json"))["projects"]
    assert document["project"]["milestones"] == [
        {"milestone": 1, "baseline": 3, "current": 6},
        {"milestone": 2, "baseline": 4, "current": 2, "expected": 8.0, "score": 25.0},
    ]
    assert document["group/bare"]["milestones"] == [{"milestone": 1, "baseline": 3, "current": 6}]
    assert [m["current"] for m in document["mixed"]["milestones"]] == [6, 2]
    assert document["mixed"]["milestones"][1]["expected"] == pytest.approx(12.0)


def test_out_writes_the_json_and_well_formed_svg_charts(tmp_path: Path) -> None:
    spec = _write(
        tmp_path,
        NOVA + '\n[projects."openstack/swift"]\ngrizzly = [0, 4, 5]\nicehouse = [3, 2]\n',
    )
    out = tmp_path / "out"
    output = _run(str(spec), "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "nova.svg",
        "openstack_swift.svg",
        "velocity.json",
    ]
    assert str(out / "nova.svg") in output
    assert json.loads((out / "velocity.json").read_text()) == json.loads(_run(str(spec), "--json"))
    nova = ET.parse(out / "nova.svg").getroot()
    assert nova.tag == f"{SVG}svg"
    # Text stays text: the counts, the score and the cycles can be read.
    texts = {"".join(t.itertext()).strip() for t in nova.iter(f"{SVG}text")}
    assert {"549", "548", "465", "282", "61%", "grizzly", "icehouse", "expected"} <= texts
    assert "nova: icehouse against grizzly" in texts
    # No growth for swift (grizzly-1 is 0): the chart has bars and no score.
    swift = ET.parse(out / "openstack_swift.svg").getroot()
    texts = {"".join(t.itertext()).strip() for t in swift.iter(f"{SVG}text")}
    assert "expected" not in texts
    assert not any(t.endswith("%") for t in texts)


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("current = 'b'\n[projects.x]\na = [1]\nb = [1]", "baseline", "is missing"),
        (
            "baseline = 'a'\ncurrent = 'b'\nextra = 1\n[projects.x]\na = [1]\nb = [1]",
            "extra",
            "not a key",
        ),
        ("baseline = 'a'\ncurrent = 'a'\n[projects.x]\na = [1]", "current", "another cycle"),
        ("baseline = 'a'\ncurrent = 'b'\nprojects = {}", "projects", "at least one"),
        ("baseline = 'a b'\ncurrent = 'b'\n[projects.x]\nb = [1]", "baseline", "must be a name"),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [1]\nb = [1]\nc = [1]",
            "projects.x.c",
            "is not repo",
        ),
        ("baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [1]", "projects.x.b", "is missing"),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [1]\nb = [1, 2]",
            "projects.x.b",
            "more than",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [1, 'x']\nb = [1]",
            "projects.x.a",
            "only refs",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [1.5]\nb = [1]",
            "projects.x.a",
            "only refs",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [true]\nb = [1]",
            "projects.x.a",
            "only refs",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [-1]\nb = [1]",
            "projects.x.a[0]",
            "from 0",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = []\nb = [1]",
            "projects.x.a",
            "non-empty",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = ['1.0', '2.0']\nb = [1]",
            "projects.x.a",
            "need the project's repo",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\nrepo = '.'\na = ['1.0']\nb = [1]",
            "projects.x.a",
            "previous release",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\nrepo = 3\na = [1]\nb = [1]",
            "projects.x.repo",
            "path",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.x]\na = [" + "1," * 21 + "]\nb = [1]",
            "projects.x.a",
            "more than 20",
        ),
        (
            "baseline = 'a'\ncurrent = 'b'\n[projects.'x/y']\na = [1]\nb = [1]\n"
            "[projects.x_y]\na = [1]\nb = [1]",
            "projects.x_y",
            "same chart file",
        ),
        ("baseline = 'a'\ncurrent = 'b'\nprojects = 3", "projects", "at least one"),
    ],
)
def test_spec_mistakes_are_refused_with_their_place(
    tmp_path: Path, text: str, field: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_spec(_write(tmp_path, text))
    assert caught.value.details[0]["field"] == field
    assert fragment in caught.value.message


def test_too_many_projects_and_too_large_files(tmp_path: Path) -> None:
    projects = {f"p{i}": {"a": [1], "b": [1]} for i in range(201)}
    with pytest.raises(InvalidInput, match="more than 200"):
        parse_spec({"baseline": "a", "current": "b", "projects": projects}, base=tmp_path)
    with pytest.raises(InvalidInput, match="larger than"):
        load_spec(_write(tmp_path, "#" * 1_000_001))


def test_json_specs_and_unreadable_ones(tmp_path: Path) -> None:
    spec = {
        "baseline": "grizzly",
        "current": "icehouse",
        "projects": {"nova": {"grizzly": [549, 465], "icehouse": [548, 282]}},
    }
    path = _write(tmp_path, json.dumps(spec), "spec.json")
    assert load_spec(path).projects[0].current == [548, 282]
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_spec(_write(tmp_path, "{", "bad.json"))
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_spec(_write(tmp_path, "baseline = ", "bad.toml"))
    with pytest.raises(InvalidInput, match="cannot read"):
        load_spec(tmp_path / "missing.toml")


def test_a_missing_tag_names_its_place_in_the_spec(project: Repo, tmp_path: Path) -> None:
    spec = _write(
        tmp_path,
        """
baseline = "one"
current = "two"
[projects.project]
repo = "repos/project"
one = ["1.0", "2.0.b1"]
two = ["2.0", "3.0.b7"]
""",
    )
    result = CliRunner().invoke(app, ["velocity", "report", str(spec)])
    assert result.exit_code != 0
    assert getattr(result.exception, "code", None) == "unknown_ref"
    assert "projects.project.two[1] '3.0.b7'" in str(result.exception)
