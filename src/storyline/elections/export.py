"""The JSON form of a count, shared by ``storyline elections count --json`` and
the results document of an election held in the tracker.

Both print the same dict for the same ballots, so a result checked on the
command line can be compared key by key with the one the tracker published.
"""

from __future__ import annotations

from typing import Any, Final

from storyline.elections.methods.debian import DebianDetails
from storyline.elections.methods.result import Result
from storyline.elections.proportional import Criterion, ProportionalResult

__all__ = ["PROPORTIONAL_LABELS", "proportional_to_json", "result_to_json"]

#: The short names of CIVS's proportional criteria, as the command line spells them.
PROPORTIONAL_LABELS: Final[dict[Criterion, str]] = {
    "best-candidate": "best",
    "combined-weights": "combined",
}


def result_to_json(result: Result, seats: int) -> dict[str, Any]:
    """The machine-readable form of a count."""
    outcome = result.winners(seats)
    matrix = result.matrix
    data: dict[str, Any] = {
        "method": result.method,
        "candidates": list(result.candidates),
        "ballots": matrix.num_voters,
        "seats": seats,
        "ranking": result.tiers(),
        "winners": list(outcome.elected),
        "tie": None
        if outcome.tie is None
        else {
            "candidates": [c for c in result.candidates if c in outcome.tie.candidates],
            "seats": outcome.tie.seats,
        },
        "pairwise": matrix.d.tolist(),
        "randomness_used": result.randomness_used,
        "seed": result.seed,
        "log": list(result.log),
    }
    if isinstance(result.details, DebianDetails):
        data["dropped"] = list(result.details.dropped)
        data["default_option"] = result.details.default_option
    return data


def proportional_to_json(result: ProportionalResult) -> dict[str, Any]:
    """The machine-readable form of a CIVS proportional count.

    The "ranking" is the list of unbeaten committees, each in individual
    preference order as CIVS lists them; the "winners" are empty and the
    committees are the "tie" when there are several.
    """
    winners = [list(result.in_order(c)) for c in result.winners]
    return {
        "method": f"civs-proportional-{PROPORTIONAL_LABELS[result.criterion]}",
        "candidates": list(result.candidates),
        "seats": result.seats,
        "ranking": winners,
        "winners": winners[0] if len(winners) == 1 else [],
        "tie": None if len(winners) == 1 else winners,
        "search_failed": result.search_failed,
    }
