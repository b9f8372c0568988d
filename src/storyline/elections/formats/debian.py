"""Debian tally sheets, as published by devotee for every Debian vote.

The option list is given by lines such as ``Option 1---->: Name`` (or
``Option 1: Name`` in the oldest sheets).  Each ballot is a line ``V: <string>``
with one character per option, in option order: a digit is a rank (1 is best),
equal digits are ties, ``-`` leaves the option unranked.  Anything after the vote
string (a hash, or a voter's login and name on public votes) is ignored.

Under Debian's rules ranked options beat unranked ones and unranked options tie,
which is what the profile's "worse than every rank" value for ``-`` expresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final, TextIO

from storyline.elections.formats._text import Source, read_text
from storyline.elections.formats.errors import BallotFileError
from storyline.elections.profile import Profile

__all__ = [
    "DEBIAN_UNRANKED",
    "DebianTally",
    "default_option_of",
    "majority_of",
    "read_debian",
    "write_debian",
]

#: The rank given to ``-``: worse than any rank a vote string can hold (base 36).
DEBIAN_UNRANKED: Final = 36

_OPTION = re.compile(r"Option\s+(\d+)\s*-*>?\s*:\s*(.*?)\s*$")
# The option list is drawn with ASCII-art guides ("|||/") that once leaked onto
# the end of a name line (DPL 2004); they are not part of the name.
_ART = re.compile(r"\s+[|/]+\s*$")
_VOTE = re.compile(r"^\s*V:\s*(\S+)")
_MAJORITY = re.compile(r"\[\s*(\d+)\s*:\s*(\d+)\s+majority", re.IGNORECASE)
_DEFAULT_NAMES: Final = ("further discussion", "none of the above")
_RANK_CHARS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


def majority_of(option: str) -> Fraction:
    """The majority ratio an option needs, read from its name (``[3:1 majority needed]``)."""
    found = _MAJORITY.search(option)
    if found is None:
        return Fraction(1)
    return Fraction(int(found.group(1)), int(found.group(2)))


def default_option_of(options: tuple[str, ...]) -> str:
    """The default option: "Further Discussion" or "None Of The Above", else the last one."""
    for option in options:
        lowered = option.lower()
        if any(name in lowered for name in _DEFAULT_NAMES):
            return option
    return options[-1]


@dataclass(frozen=True, slots=True)
class DebianTally:
    """The options and ballots of one Debian vote."""

    options: tuple[str, ...]
    profile: Profile
    default_option: str
    majorities: dict[str, Fraction] = field(default_factory=dict)


def _rank(char: str, *, line: int, name: str | None) -> int:
    if char == "-":
        return DEBIAN_UNRANKED
    value = _RANK_CHARS.find(char.lower())
    if value <= 0:
        raise BallotFileError(
            f"unexpected character {char!r} in the vote string; expected a rank or '-'",
            line=line,
            source=name,
        )
    return value


def read_debian(source: Source) -> DebianTally:
    """Read a devotee tally sheet."""
    text, name = read_text(source)
    options: dict[int, str] = {}
    rows: list[tuple[int, ...]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        vote = _VOTE.match(raw)
        if vote is not None:
            if not options:
                raise BallotFileError(
                    "a vote comes before the option list", line=number, source=name
                )
            string = vote.group(1)
            if len(string) != len(options):
                raise BallotFileError(
                    f"the vote string {string!r} has {len(string)} characters "
                    f"for {len(options)} options",
                    line=number,
                    source=name,
                )
            rows.append(tuple(_rank(c, line=number, name=name) for c in string))
            continue
        option = _OPTION.search(raw)
        if option is not None:
            if rows:
                raise BallotFileError(
                    "an option is listed after the votes", line=number, source=name
                )
            index = int(option.group(1))
            if index in options or index != len(options) + 1:
                raise BallotFileError(
                    f"option {index} is out of order; expected option {len(options) + 1}",
                    line=number,
                    source=name,
                )
            options[index] = _ART.sub("", option.group(2))
    if not options:
        raise BallotFileError("no option list ('Option 1: ...') found", source=name)
    names = tuple(options[i] for i in sorted(options))
    if len(set(names)) != len(names):
        raise BallotFileError("two options have the same name", source=name)
    return DebianTally(
        options=names,
        profile=Profile.from_rankings(names, rows),
        default_option=default_option_of(names),
        majorities={o: majority_of(o) for o in names},
    )


def _vote_string(ranks: tuple[int | None, ...]) -> str:
    # Debian has no "no opinion": the closest is leaving the option unranked.
    ranked = sorted({r for r in ranks if r is not None and r < DEBIAN_UNRANKED})
    if len(ranked) >= len(_RANK_CHARS):
        raise ValueError("a ballot has more distinct ranks than a vote string can hold")
    dense = {r: _RANK_CHARS[i + 1] for i, r in enumerate(ranked)}
    return "".join("-" if r is None or r >= DEBIAN_UNRANKED else dense[r] for r in ranks)


def write_debian(profile: Profile, out: TextIO) -> None:
    """Write a profile as a tally sheet that :func:`read_debian` reads back.

    Ranks are renumbered 1, 2, ... per ballot (only their order matters); "no
    opinion" and ranks of :data:`DEBIAN_UNRANKED` or worse are written as ``-``.
    """
    out.write("Tally Sheet for the votes cast.\n\n")
    for i, option in enumerate(profile.candidates, start=1):
        out.write(f"     Option {i}--->: {option}\n")
    for ballot in profile.expanded():
        out.write(f"V: {_vote_string(ballot.ranks)}\n")
