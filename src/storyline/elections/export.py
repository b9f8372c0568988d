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

__all__ = ["PROPORTIONAL_LABELS", "document_to_text", "proportional_to_json", "result_to_json"]

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


def document_to_text(document: dict[str, Any]) -> str:
    """The human-readable form of a count's JSON (`result_to_json`, or the
    results of an election held in the tracker): tiers, winners, the tie at
    the seat boundary and how it was broken, the pairwise matrix."""
    seats = int(document["seats"])
    proportional = str(document["method"]).startswith("civs-proportional")
    lines = [f"Method: {document['method']}; {document['ballots']} ballots."]
    if document.get("live"):
        lines.append("Live results: voting is still open.")
    lines.append("")
    if proportional:
        lines.append(f"Winning set(s) of {seats}:")
        lines += ["  " + ", ".join(committee) for committee in document["ranking"]]
    else:
        lines.append("Ranking:")
        place = 1
        for tier in document["ranking"]:
            mark = " (tied)" if len(tier) > 1 else ""
            lines.append(f"  {place:>3}. {' = '.join(tier)}{mark}")
            place += len(tier)
        lines.append("")
        lines.append(
            f"Winners ({seats} seat{'s' if seats != 1 else ''}): "
            + (", ".join(document["winners"]) or "none")
        )
        tie = document.get("tie")
        tie_break = document.get("tie_break")
        if tie:
            lines.append(
                f"Tie at the seat boundary: {tie['seats']} more seat(s) among "
                + ", ".join(tie["candidates"])
                + ("." if tie_break else " (not broken).")
            )
        if tie_break:
            lines.append(
                f"Broken by lot (seed {tie_break['seed']}): " + ", ".join(tie_break["winners"])
            )
        if document.get("randomness_used"):
            lines.append(f"Random tie-breaking was used (seed {document['seed']}).")
        if document.get("dropped"):
            lines.append("Dropped against the default option: " + ", ".join(document["dropped"]))
    names = list(document["candidates"])
    matrix = document["pairwise"]
    width = max([3, *(len(str(cell)) for row in matrix for cell in row)])
    lines += ["", "Pairwise matrix (row over column):"]
    lines.append(" " * 6 + " ".join(f"{j + 1:>{width}}" for j in range(len(names))))
    for i, name in enumerate(names):
        cells = " ".join(
            f"{'-':>{width}}" if i == j else f"{matrix[i][j]:>{width}}" for j in range(len(names))
        )
        lines.append(f"{i + 1:>4}. {cells}  {name}")
    return "\n".join(lines)
