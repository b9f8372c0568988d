"""Counting ranked-ballot elections exactly as CIVS and Debian do.

A pure library: no database, no HTTP.  Everything public is listed in ``__all__``.
"""

from storyline.elections.profile import (
    NO_OPINION,
    NO_OPINION_RANK,
    Ballot,
    PairwiseMatrix,
    Profile,
    pairwise,
)

__all__ = [
    "NO_OPINION",
    "NO_OPINION_RANK",
    "Ballot",
    "PairwiseMatrix",
    "Profile",
    "pairwise",
]
