"""Reading and writing CIVS, Debian and BLT ballot files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from storyline.elections import (
    BallotFileError,
    Profile,
    pairwise,
    read_blt,
    read_civs,
    read_civs_ballots,
    read_debian,
    write_blt,
    write_civs,
    write_debian,
)

CIVS_EXAMPLE = "Red,Green,Blue,Gold\n2,2,1,4\n4,4,No opinion,1\n"


def test_civs_example_from_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "civs_ballots.csv"
    path.write_text("\ufeff" + CIVS_EXAMPLE, encoding="utf-8")
    profile = read_civs(path, proportional=False)
    assert profile.candidates == ("Red", "Green", "Blue", "Gold")
    assert profile.ballots[1].ranks == (4, 4, None, 1)
    assert read_civs(str(path), proportional=False) == profile
    assert read_civs(io.StringIO(CIVS_EXAMPLE), proportional=False) == profile
    assert read_civs(CIVS_EXAMPLE, proportional=False) == profile


def test_civs_proportional_values_are_inverted() -> None:
    text = "a,b,c\n2,1,0\n0,No opinion,2\n"
    stored = read_civs_ballots(text, proportional=True)
    assert stored.rows == ((2, 1, 0), (0, None, 2))
    profile = stored.profile()
    assert profile.ballots[0].ranks == (1, 2, 3)
    assert pairwise(profile)["a", "b"] == 1
    # Combined weights go up to 999: still inverted, never negative.
    weights = read_civs("a,b\n999,5\n", proportional=True)
    assert weights.ballots[0].ranks == (0, 994)


def test_civs_round_trip() -> None:
    profile = read_civs(CIVS_EXAMPLE, proportional=False)
    out = io.StringIO()
    write_civs(profile, out)
    assert out.getvalue() == CIVS_EXAMPLE
    prop = io.StringIO()
    write_civs(profile, prop, proportional=True)
    assert read_civs(prop.getvalue(), proportional=True).ballots == profile.ballots
    with pytest.raises(ValueError, match="comma"):
        write_civs(Profile.from_rankings(["a,b"], []), io.StringIO())


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("\n\n", 1, "empty"),
        ("a,,b\n", 1, "empty candidate"),
        ("a,a\n", 1, "twice"),
        ("a,b\n1,2\n\n1,2\n", 3, "blank line"),
        ("a,b\n1,2\n1\n", 3, "1 values for 2 candidates"),
        ("a,b\n1,x\n", 2, "value 2 is 'x'"),
        ("a,b\n1,-2\n", 2, "negative"),
    ],
)
def test_civs_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(BallotFileError, match=message) as caught:
        read_civs(text if "\n" in text else text + "\n", proportional=False)
    assert caught.value.line == line
    assert isinstance(caught.value, ValueError)
    assert f"line {line}" in str(caught.value)


TALLY = """
     Option 1---->: Yes [3:1 majority needed]
   /  Option 2--->: Other
   |/  Option 3-->: Further Discussion   ||/
   ||/
V: 12-    abc123
V: 1-2
V: 111
"""


def test_debian_tally() -> None:
    tally = read_debian(TALLY)
    assert tally.options == ("Yes [3:1 majority needed]", "Other", "Further Discussion")
    assert tally.default_option == "Further Discussion"
    assert tally.majorities["Yes [3:1 majority needed]"] == 3
    assert tally.majorities["Other"] == 1
    m = pairwise(tally.profile)
    assert m["Yes [3:1 majority needed]", "Further Discussion"] == 2
    assert m["Other", "Further Discussion"] == 1
    assert m["Further Discussion", "Other"] == 1


def test_debian_round_trip() -> None:
    profile = read_debian(TALLY).profile
    out = io.StringIO()
    write_debian(Profile.from_rankings(profile.candidates, [(0, None, 5), (1, 1, 36)]), out)
    again = read_debian(out.getvalue())
    assert again.profile.ballots[0].ranks == (1, 36, 2)
    assert again.profile.ballots[1].ranks == (1, 1, 36)
    assert again.default_option == "Further Discussion"
    out = io.StringIO()
    write_debian(profile, out)
    assert pairwise(read_debian(out.getvalue()).profile).d.tolist() == pairwise(profile).d.tolist()
    with pytest.raises(ValueError, match="distinct ranks"):
        write_debian(
            Profile.from_rankings([str(i) for i in range(37)], [tuple(range(37))]), io.StringIO()
        )


def test_debian_default_option_falls_back_to_the_last() -> None:
    tally = read_debian("Option 1: A\nOption 2: B\nV: 12\n")
    assert tally.default_option == "B"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("V: 12\n", 1, "before the option list"),
        ("Option 1: A\nOption 2: B\nV: 123\n", 3, "3 characters for 2 options"),
        ("Option 1: A\nOption 2: B\nV: 1!\n", 3, "unexpected character '!'"),
        ("Option 1: A\nOption 2: B\nV: 10\n", 3, "unexpected character '0'"),
        ("Option 1: A\nV: 1\nOption 2: B\n", 3, "after the votes"),
        ("Option 1: A\nOption 3: B\n", 2, "out of order"),
        ("nothing here\n", 0, "no option list"),
        ("Option 1: A\nOption 2: A\nV: 12\n", 0, "same name"),
    ],
)
def test_debian_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(BallotFileError, match=message) as caught:
        read_debian(text)
    assert caught.value.line == line


BLT = """# a comment
4 2
-4
3 1 2=3 0
2 3 0   # trailing comment
0 1 0
0
"Alice"
"Bob"
"Carol \\"C\\" Jones"
"Dan"
"Board 2024"
"""


def test_blt() -> None:
    election = read_blt(BLT)
    assert election.seats == 2
    assert election.title == "Board 2024"
    assert election.withdrawn == ("Dan",)
    profile = election.profile
    assert profile.candidates == ("Alice", "Bob", 'Carol "C" Jones')
    assert profile.weights == (3, 2)
    assert profile.ballots[0].ranks == (0, 1, 1)
    assert profile.ballots[1].ranks == (4, 4, 0)


def test_blt_round_trip() -> None:
    profile = Profile.from_weighted("ABC", [((0, 1, 1), 3), ((3, None, 0), 2)])
    out = io.StringIO()
    write_blt(profile, out, seats=2, title="T")
    election = read_blt(out.getvalue())
    assert election.seats == 2
    assert election.title == "T"
    assert pairwise(election.profile).d.tolist() == [[0, 3, 3], [0, 0, 0], [2, 2, 0]]
    untitled = read_blt('2 1\n1 1 0\n0\n"A"\n"B"\n')
    assert untitled.title == ""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("  \n", 1, "empty"),
        ("4\n", 1, "'candidates seats'"),
        ("x 1\n", 1, "not a whole number"),
        ("0 1\n", 1, "positive"),
        ("2 1\n1 1 0\n-1\n", 3, "before the ballots"),
        ("2 1\n-3\n", 2, "no candidate 3"),
        ("2 1\n1 1\n", 2, "end with 0"),
        ("2 1\n-1 1 0\n", 2, "no candidate -1|withdraw"),
        ("2 1\n1 3 0\n", 2, "no candidate 3"),
        ("2 1\n1 1 1 0\n", 2, "twice"),
        ("2 1\n1 1 0\n", 0, "not ended"),
        ('2 1\n0\n"A\n', 3, "cannot read"),
        ('2 1\n0\n"A"\n', 0, "2 candidate names expected"),
        ('2 1\n0\n"A"\n"B"\n"T"\n"X"\n', 0, "after the title"),
    ],
)
def test_blt_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(BallotFileError, match=message) as caught:
        read_blt(text)
    assert caught.value.line == line
