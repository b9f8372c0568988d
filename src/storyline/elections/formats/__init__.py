"""Readers and writers for ballot files: CIVS, Debian tally sheets and BLT."""

from storyline.elections.formats.blt import BltElection, read_blt, write_blt
from storyline.elections.formats.civs import (
    CivsBallots,
    read_civs,
    read_civs_ballots,
    write_civs,
)
from storyline.elections.formats.debian import DebianTally, read_debian, write_debian
from storyline.elections.formats.errors import BallotFileError

__all__ = [
    "BallotFileError",
    "BltElection",
    "CivsBallots",
    "DebianTally",
    "read_blt",
    "read_civs",
    "read_civs_ballots",
    "read_debian",
    "write_blt",
    "write_civs",
    "write_debian",
]
