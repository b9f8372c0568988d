"""The anonymized ballot file CIVS offers for download (``civs_ballots.csv``).

Line 1 holds the candidate names joined by commas, without quoting.  Every other
line is one ballot: one value per candidate, in header order, exactly as CIVS
stored it, either an integer or the text ``No opinion``.

The file does not say which kind of poll it came from, so the caller must:

* normal polls store ranks, lower is better, and an untouched candidate keeps
  the default rank (the number of candidates), so "unranked" and "ranked last"
  look the same;
* proportional polls store *inverted* values, higher is better: the rank form
  stores ``number of candidates - rank``, the combined-weights form the weight the
  voter typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TextIO

from storyline.elections.formats._text import Source, read_text
from storyline.elections.formats.errors import BallotFileError
from storyline.elections.profile import Profile

__all__ = ["NO_OPINION_TEXT", "CivsBallots", "read_civs", "read_civs_ballots", "write_civs"]

#: How CIVS writes "no opinion" in the ballot file.
NO_OPINION_TEXT: Final = "No opinion"

Value = int | None


@dataclass(frozen=True, slots=True)
class CivsBallots:
    """A CIVS ballot file as stored: values in file order, not yet turned into ranks."""

    candidates: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    proportional: bool

    def profile(self) -> Profile:
        """The ballots as ranks (lower is better), identical ballots merged."""
        if not self.proportional:
            return Profile.from_rankings(self.candidates, self.rows)
        # Inverting around the largest stored value keeps every rank non-negative
        # whichever proportional form the poll used (ranks or weights up to 999).
        top = max([len(self.candidates), *(v for row in self.rows for v in row if v is not None)])
        return Profile.from_rankings(
            self.candidates,
            (tuple(None if v is None else top - v for v in row) for row in self.rows),
        )


def _parse_value(field: str, *, line: int, column: int, name: str | None) -> Value:
    text = field.strip()
    if text == NO_OPINION_TEXT:
        return None
    try:
        value = int(text)
    except ValueError:
        raise BallotFileError(
            f"value {column} is {field!r}; expected a whole number or {NO_OPINION_TEXT!r}",
            line=line,
            source=name,
        ) from None
    if value < 0:
        raise BallotFileError(
            f"value {column} is negative ({value}); CIVS never stores negative values",
            line=line,
            source=name,
        )
    return value


def read_civs_ballots(source: Source, *, proportional: bool) -> CivsBallots:
    """Read a CIVS ballot file, keeping the stored values.

    ``proportional`` must say whether the poll was a proportional one (values
    inverted, higher is better): the file itself does not tell.
    """
    text, name = read_text(source)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not lines[0].strip():
        raise BallotFileError(
            "the file is empty; expected a header line of candidates", line=1, source=name
        )
    candidates = tuple(c.strip() for c in lines[0].split(","))
    if any(not c for c in candidates):
        raise BallotFileError("the header has an empty candidate name", line=1, source=name)
    seen: set[str] = set()
    for c in candidates:
        if c in seen:
            raise BallotFileError(
                f"candidate {c!r} appears twice in the header", line=1, source=name
            )
        seen.add(c)
    rows: list[tuple[Value, ...]] = []
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            raise BallotFileError("blank line among the ballots", line=number, source=name)
        fields = raw.split(",")
        if len(fields) != len(candidates):
            raise BallotFileError(
                f"{len(fields)} values for {len(candidates)} candidates "
                "(a comma inside a candidate name breaks this format)",
                line=number,
                source=name,
            )
        rows.append(
            tuple(
                _parse_value(f, line=number, column=col, name=name)
                for col, f in enumerate(fields, start=1)
            )
        )
    return CivsBallots(candidates=candidates, rows=tuple(rows), proportional=proportional)


def read_civs(source: Source, *, proportional: bool) -> Profile:
    """Read a CIVS ballot file as a profile of ranks (lower is better)."""
    return read_civs_ballots(source, proportional=proportional).profile()


def _format(value: Value) -> str:
    return NO_OPINION_TEXT if value is None else str(value)


def write_civs(profile: Profile, out: TextIO, *, proportional: bool = False) -> None:
    """Write a profile in CIVS's ballot-file format, one line per ballot cast.

    For a proportional poll the ranks are stored inverted as CIVS does
    (``number of candidates - rank``, or around the worst rank if it is larger).
    """
    for name in profile.candidates:
        if "," in name:
            raise ValueError(f"candidate name {name!r} contains a comma, which CIVS cannot store")
    out.write(",".join(profile.candidates) + "\n")
    top = max(
        [profile.num_candidates, *(r for b in profile.ballots for r in b.ranks if r is not None)]
    )
    for ballot in profile.expanded():
        values: Sequence[Value] = ballot.ranks
        if proportional:
            values = [None if r is None else top - r for r in ballot.ranks]
        out.write(",".join(_format(v) for v in values) + "\n")
