"""The BLT ballot format (used by OpenSTV, OpaVote, Electionbuddy and others).

::

    4 2            number of candidates, number of seats
    -3             optional: withdrawn candidates, as negative numbers
    12 1 2=3 0     weight, candidates best first ("=" joins tied ones), 0 ends it
    0              end of ballots
    "Alice"        one name per candidate
    ...
    "Title"

Candidates a ballot does not list are unranked: they tie below every listed one.
Comments start with ``#``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TextIO

from storyline.elections.formats._text import Source, read_text
from storyline.elections.formats.errors import BallotFileError
from storyline.elections.profile import Profile

__all__ = ["BltElection", "read_blt", "write_blt"]

_COMMENT = re.compile(r"#.*$")


@dataclass(frozen=True, slots=True)
class BltElection:
    """A BLT file: its ballots (withdrawn candidates removed), seats and title."""

    profile: Profile
    seats: int
    title: str
    withdrawn: tuple[str, ...]


def _int(token: str, what: str, *, line: int, name: str | None) -> int:
    try:
        return int(token)
    except ValueError:
        raise BallotFileError(
            f"{what} is {token!r}, not a whole number", line=line, source=name
        ) from None


def read_blt(source: Source) -> BltElection:
    """Read a BLT file."""
    text, name = read_text(source)
    lines = [
        (number, _COMMENT.sub("", raw).strip())
        for number, raw in enumerate(text.splitlines(), start=1)
    ]
    lines = [(n, t) for n, t in lines if t]
    if not lines:
        raise BallotFileError("the file is empty", line=1, source=name)
    it = iter(lines)
    number, header = next(it)
    parts = header.split()
    if len(parts) != 2:
        raise BallotFileError("the first line must be 'candidates seats'", line=number, source=name)
    n = _int(parts[0], "the number of candidates", line=number, name=name)
    seats = _int(parts[1], "the number of seats", line=number, name=name)
    if n <= 0 or seats <= 0:
        raise BallotFileError(
            "the numbers of candidates and seats must be positive", line=number, source=name
        )
    withdrawn: set[int] = set()
    weighted: list[tuple[tuple[int, ...], int]] = []
    for number, line in it:
        tokens = line.split()
        if tokens[0].startswith("-"):
            if weighted:
                raise BallotFileError(
                    "withdrawn candidates must come before the ballots", line=number, source=name
                )
            for token in tokens:
                value = -_int(token, "a withdrawn candidate", line=number, name=name)
                if not 1 <= value <= n:
                    raise BallotFileError(
                        f"no candidate {value} to withdraw", line=number, source=name
                    )
                withdrawn.add(value - 1)
            continue
        weight = _int(tokens[0], "the ballot weight", line=number, name=name)
        if weight == 0 and len(tokens) == 1:
            break
        if tokens[-1] != "0":
            raise BallotFileError("a ballot must end with 0", line=number, source=name)
        ranks = [n] * n
        for position, group in enumerate(tokens[1:-1]):
            for token in group.split("="):
                c = _int(token, "a candidate number", line=number, name=name)
                if not 1 <= c <= n:
                    raise BallotFileError(f"there is no candidate {c}", line=number, source=name)
                if ranks[c - 1] != n:
                    raise BallotFileError(
                        f"candidate {c} appears twice on a ballot", line=number, source=name
                    )
                ranks[c - 1] = position
        if weight:
            weighted.append((tuple(ranks), weight))
    else:
        raise BallotFileError("the ballots are not ended by a line '0'", source=name)
    names: list[str] = []
    for number, line in it:
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise BallotFileError(
                f"cannot read the name: {exc}", line=number, source=name
            ) from None
        names.append(" ".join(tokens))
    if len(names) < n:
        raise BallotFileError(f"{n} candidate names expected, found {len(names)}", source=name)
    if len(names) > n + 1:
        raise BallotFileError(f"unexpected text after the title: {names[n + 1]!r}", source=name)
    candidates = names[:n]
    title = names[n] if len(names) > n else ""
    keep = [i for i in range(n) if i not in withdrawn]
    profile = Profile.from_weighted(
        [candidates[i] for i in keep],
        ((tuple(r[i] for i in keep), w) for r, w in weighted),
    )
    return BltElection(
        profile=profile,
        seats=seats,
        title=title,
        withdrawn=tuple(candidates[i] for i in sorted(withdrawn)),
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_blt(profile: Profile, out: TextIO, *, seats: int = 1, title: str = "") -> None:
    """Write a profile as BLT, one line per distinct ballot with its weight.

    A ballot's bottom group is left out when its rank is the "untouched" value
    (the number of candidates or worse): BLT expresses that by not listing them.
    "No opinion" cannot be expressed in BLT and is written as unranked.
    """
    n = profile.num_candidates
    out.write(f"{n} {seats}\n")
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        levels = sorted({r for r in ballot.ranks if r is not None and r < n})
        groups = [
            "=".join(str(i + 1) for i, r in enumerate(ballot.ranks) if r == level)
            for level in levels
        ]
        out.write(" ".join([str(weight), *groups, "0"]) + "\n")
    out.write("0\n")
    for candidate in profile.candidates:
        out.write(_quote(candidate) + "\n")
    out.write(_quote(title) + "\n")
