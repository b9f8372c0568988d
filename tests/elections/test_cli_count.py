"""`storyline elections count`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli.elections import app

from .conftest import DATA

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["count", *args])
    return result.exit_code, result.output


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_text_output_lists_tiers_winners_boundary_tie_and_matrix(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B,C\n1,1,3\n1,1,3\n3,3,1\n")
    code, out = run(path, "--seats", "1")
    assert code == 0, out
    assert "1. A = B (tied)" in out
    assert "3. C" in out
    assert "Tie at the seat boundary: 1 more seat(s) among A, B (not broken)." in out
    assert "Pairwise matrix" in out
    assert "Winners (1 seat): none" in out


def test_json_output(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B,C\n1,2,3\n1,3,2\n2,1,3\n")
    code, out = run(path, "--json", "--seats", "2", "--method", "minimax-pm")
    assert code == 0, out
    data = json.loads(out)
    assert data["ranking"] == [["A"], ["B"], ["C"]]
    assert data["winners"] == ["A", "B"]
    assert data["tie"] is None
    assert data["pairwise"][0][1] == 2


def test_json_reports_a_boundary_tie(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B,C\n1,1,3\n")
    data = json.loads(run(path, "--json", "--seats", "1")[1])
    assert data["winners"] == []
    assert data["tie"] == {"candidates": ["A", "B"], "seats": 1}


def test_mam_reports_its_seed(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B,C\n1,2,3\n2,3,1\n3,1,2\n")
    code, out = run(path, "--method", "mam", "--seed", "7")
    assert code == 0, out
    assert "Random tie-breaking was used (seed 7)." in out


def test_blt_seats_are_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, "e.blt", '3 2\n2 1 2 0\n1 3 0\n0\n"A"\n"B"\n"C"\n"T"\n')
    data = json.loads(run(path, "--json")[1])
    assert data["seats"] == 2
    assert data["winners"] == ["A", "B"]


def test_debian_tallies_are_recognised_and_counted_by_debian_rule(tmp_path: Path) -> None:
    text = "     Option 1--->: Yes [3:1 majority needed]\n     Option 2-->: Further Discussion\n"
    text += "V: 12\n" * 5 + "V: 21\n" * 2
    path = write(tmp_path, "tally.txt", text)
    data = json.loads(run(path, "--json")[1])
    assert data["method"] == "debian"
    assert data["winners"] == ["Further Discussion"]
    assert data["dropped"] == ["Yes [3:1 majority needed]"]
    _, out = run(path)
    assert "Dropped against the default option: Yes [3:1 majority needed]" in out


def test_condorcet_irv_tie_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B,C\n1,2,3\n2,3,1\n3,1,2\n")
    for rule in ("current", "pre-2024"):
        code, out = run(path, "--method", "condorcet-irv", "--irv-tie-rule", rule, "--seed", "1")
        assert code == 0, out


def test_malformed_file_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B\n1,2\n1\n")
    code, out = run(path)
    assert code == 2
    assert "line 3" in out


def test_more_seats_than_candidates(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "A,B\n1,2\n")
    code, out = run(path, "--seats", "3")
    assert code == 2
    assert "3 seats for 2 candidates" in out


@pytest.mark.parametrize("as_json", [False, True])
def test_proportional_mode(tmp_path: Path, as_json: bool) -> None:
    pytest.importorskip("storyline.elections.proportional")
    lines = ["a,b,c,x,y"] + ["1,2,3,5,5"] * 3 + ["5,5,5,1,2"] * 2
    path = write(tmp_path, "b.csv", "\n".join(lines) + "\n")
    args = [path, "--seats", "2", "--proportional", "best"] + (["--json"] if as_json else [])
    code, out = run(*args)
    assert code == 0, out
    if as_json:
        assert sorted(json.loads(out)["winners"]) == ["a", "x"]
    else:
        assert "winning set" in out


def test_official_kubernetes_2019_result_from_the_command_line() -> None:
    path = DATA / "civs" / "kubernetes-steering" / "2019" / "BALLOTS.csv"
    if not path.exists():
        pytest.skip("shared data not available")
    code, out = run(
        str(path),
        "--method",
        "condorcet-irv",
        "--irv-tie-rule",
        "pre-2024",
        "--json",
        "--seats",
        "4",
    )
    assert code == 0, out
    assert json.loads(out)["winners"] == [
        "Paris Pittman (@parispittman)",
        "Nikhita Raghunath (@nikhita)",
        "Christoph Blecker (@cblecker)",
        "Derek Carr (@derekwaynecarr)",
    ]


def test_proportional_search_failure_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proportional = pytest.importorskip("storyline.elections.proportional")
    original = proportional.civs_proportional

    def failing(*args: object, **kwargs: object) -> object:
        return dataclasses.replace(original(*args, **kwargs), search_failed=True)

    monkeypatch.setattr(proportional, "civs_proportional", failing)
    path = write(tmp_path, "b.csv", "a,b,c\n1,2,3\n3,2,1\n")
    code, out = run(path, "--seats", "2", "--proportional", "combined")
    assert code == 0, out
    assert "gave up after 500 sets" in out
