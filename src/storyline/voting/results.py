"""The results document of an election held in the tracker, from its stored ballots.

Pure: this module counts with :mod:`storyline.elections` and touches no database,
so the close of an election, a recount and the tests all build the same document
from the same ballots.

A stored ballot is one string: one value per candidate, in the election's
candidate order, comma separated: an integer rank (1 best, equal ranks tie, an
unranked candidate stored with the number of candidates) or ``-`` for "no
opinion".  Ballots are counted as a multiset: :func:`count` sorts them first, so
the document depends on which ballots were cast, never on the order the
database returns them in (MAM's random voter hierarchy walks the ballots in
order, so this is what makes a recount with the same seed give the same
document).

The document :func:`count` returns holds only dicts, lists, strings, numbers,
booleans and nulls:

``candidates``, ``ballots``, ``seats``, ``method``, ``ranking``, ``winners``, ``tie``
    Exactly what ``storyline elections count --json`` prints for the same
    ballots (:func:`storyline.elections.result_to_json`), which also carries
    ``pairwise`` (the matrix: ``pairwise[i][j]`` ballots rank ``candidates[i]``
    above ``candidates[j]``), ``randomness_used``, ``seed`` and ``log``
    (Debian adds ``dropped`` and ``default_option``).  With ``proportional``
    set, the head is instead what ``count --proportional ... --json`` prints
    (:func:`storyline.elections.proportional_to_json`): ``method`` is
    ``civs-proportional-best`` or ``-combined``, ``ranking`` the unbeaten
    committees, ``tie`` the committees when there are several, plus
    ``search_failed``; ``ballots`` and ``pairwise`` are added.
``rule``
    The completion rule the election chose (equal to ``method`` unless the
    count is proportional).
``tie_break``
    ``null``, or how a tie across the last seat of the ranking was broken:
    ``{"rule": "lottery", "seed", "drawn", "winners"}``.  The rule is
    :func:`storyline.elections.break_ties`: the tied candidates in candidate
    order are shuffled with ``random.Random(seed)`` and the first ones take the
    seats left; ``drawn`` is the shuffled order and ``winners`` the full list of
    elected candidates.  The ranking itself never breaks a tie (CIVS shows it in
    red); this is the separate, published step OpenStack's coin toss was.
    Several unbeaten proportional committees are reported, not drawn.
``methods``
    For each method of :data:`storyline.elections.METHODS`: ``ranking``,
    ``winners``, ``tie``, ``randomness_used`` and ``seed``.  MAM (and
    Condorcet-IRV under the pre-2024 rule) draw lots with ``seed``, so the
    document is reproducible.  Debian is only counted when the election uses it
    or names a default option: without one it would treat the last candidate
    as "None of the above".
``proportional``
    ``null`` without ballots, else the normal top ``seats`` of the ranking
    against the CIVS proportional committee: ``criterion``, ``normal``,
    ``tied``, ``committees`` (the unbeaten ones), ``committee`` (the one
    winner or ``null``), ``added``, ``dropped``, ``changed`` (``null`` when a tie
    decides), ``visited``, ``search_failed``.
``spread``
    The Condorcet spread, rows in the official order: ``candidates``,
    ``positions`` (average positions, in half steps from 1), ``counts``
    (``counts[row][h]`` ballots place the candidate at ``positions[h]``),
    ``ballots``.
``pairs``
    Partisan pairs, most ballots first: ``{"pair": [a, b], "ballots": n}``;
    the share is ``ballots`` over the document's ``ballots``.
``blocks``
    Company blocks of the ``groups`` with two or more candidates:
    ``{"group", "candidates", "ballots"}``.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any, Final

import numpy as np

from storyline.elections import (
    METHODS,
    NO_OPINION,
    MethodName,
    PairwiseMatrix,
    Profile,
    ProportionalComparison,
    Spread,
    TieRule,
    break_ties,
    company_blocks,
    condorcet_spread,
    pairwise,
    partisan_pairs,
    proportional_comparison,
    proportional_to_json,
    result_to_json,
    write_civs,
)
from storyline.elections import count as count_method
from storyline.elections.proportional import Criterion

__all__ = ["NO_OPINION_MARK", "ballot_file", "charts", "count", "parse_ballots"]

#: How a stored ballot says "no opinion" about a candidate.
NO_OPINION_MARK: Final = "-"

CRITERIA: Final[dict[str, Criterion]] = {"best": "best-candidate", "combined": "combined-weights"}


def parse_ballots(candidates: Sequence[str], ballots: Iterable[str]) -> Profile:
    """The stored ballots as a profile, identical ballots merged and sorted.

    Each distinct string is parsed once: elections have far fewer distinct
    ballots than voters, and this keeps the cost linear in the ballots.
    """
    width = len(candidates)
    parsed: Counter[tuple[int | None, ...]] = Counter()
    for text, times in Counter(ballots).items():
        fields = text.split(",")
        if len(fields) != width:
            raise ValueError(f"a ballot has {len(fields)} values for {width} candidates")
        parsed[tuple(_rank(field, width) for field in fields)] += times
    # Sorted so that nothing depends on the order the ballots were read in;
    # "no opinion" sorts first, as the rank matrix encodes it (-1).
    ordered = sorted(parsed.items(), key=lambda item: [-1 if r is None else r for r in item[0]])
    return Profile.from_weighted(candidates, ordered)


def _rank(field: str, width: int) -> int | None:
    text = field.strip()
    if text == NO_OPINION_MARK:
        return NO_OPINION
    if not text.isdigit() or not 1 <= int(text) <= width:
        raise ValueError(f"a ballot value is {field!r}; expected a rank from 1 to {width} or '-'")
    return int(text)


def count(
    *,
    candidates: Sequence[str],
    ballots: Iterable[str],
    method: str,
    seats: int,
    proportional: str | None,
    groups: Mapping[str, Collection[str]] | None = None,
    seed: int = 0,
    tie_rule: TieRule = "current",
    default_option: str | None = None,
    quorum: float | None = None,
    majorities: Mapping[str, Fraction | int] | None = None,
) -> dict[str, Any]:
    """The results document (see the module docstring) of one election.

    ``tie_rule`` and the last three options are those of
    :func:`storyline.elections.count` (Condorcet-IRV's version, Debian's
    default option, quorum and majorities); the tracker keeps their defaults,
    and historic elections imported into it may set them.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if not 1 <= seats <= len(candidates):
        raise ValueError(f"seats must be between 1 and {len(candidates)}, not {seats}")
    if proportional is not None and proportional not in CRITERIA:
        raise ValueError(f"proportional must be one of {', '.join(CRITERIA)}, not {proportional!r}")
    profile = parse_ballots(candidates, ballots)
    matrix = pairwise(profile)

    # The test against METHODS above narrows `method` to a method name.
    chosen: MethodName = method
    compared = [
        m for m in METHODS if m != "debian" or chosen == "debian" or default_option is not None
    ]
    results = {
        m: count_method(
            profile,
            m,
            matrix=matrix,
            seed=seed,
            tie_rule=tie_rule,
            default_option=default_option,
            quorum=quorum,
            majorities=majorities,
        )
        for m in compared
    }
    result = results[chosen]
    order = [c for tier in result.tiers() for c in tier]

    comparison = None
    if profile.num_voters:
        comparison = proportional_comparison(
            profile,
            seats,
            result.ranking,
            criterion=CRITERIA[proportional or "best"],
        )

    document: dict[str, Any]
    if proportional is None:
        document = result_to_json(result, seats)
        tie_break = None
        if result.winners(seats).tie is not None:
            drawn = break_ties(result, seats, seed)
            tie_break = {
                "rule": "lottery",
                "seed": seed,
                "drawn": list(drawn.drawn),
                "winners": list(drawn.winners),
            }
        document["tie_break"] = tie_break
    elif comparison is None:
        document = {
            "method": f"civs-proportional-{proportional}",
            "candidates": list(candidates),
            "seats": seats,
            "ranking": [],
            "winners": [],
            "tie": None,
            "search_failed": False,
        }
        document["tie_break"] = None
    else:
        document = proportional_to_json(comparison.proportional)
        document["tie_break"] = None
    document.setdefault("ballots", profile.num_voters)
    document.setdefault("pairwise", matrix.d.tolist())
    document["rule"] = chosen

    keep = ("ranking", "winners", "tie", "randomness_used", "seed")
    document["methods"] = {
        m: {k: v for k, v in result_to_json(r, seats).items() if k in keep}
        for m, r in results.items()
    }
    document["proportional"] = None if comparison is None else _comparison(comparison)
    spread = condorcet_spread(profile, order)
    document["spread"] = {
        "candidates": list(spread.candidates),
        "positions": [float(p) for p in spread.positions],
        "counts": spread.counts.tolist(),
        "ballots": spread.num_ballots,
    }
    document["pairs"] = [
        {"pair": list(share.pair), "ballots": share.count}
        for share in partisan_pairs(profile, order)
    ]
    real_groups = {name: list(members) for name, members in (groups or {}).items()}
    document["blocks"] = [
        {"group": share.name, "candidates": list(share.members), "ballots": share.count}
        for share in company_blocks(
            profile, {name: m for name, m in real_groups.items() if len(m) >= 2}
        )
    ]
    return document


def _comparison(comparison: ProportionalComparison) -> dict[str, Any]:
    prop = comparison.proportional
    return {
        "criterion": prop.criterion,
        "normal": list(comparison.normal),
        "tied": list(comparison.tied),
        "committees": [list(prop.in_order(c)) for c in prop.winners],
        "committee": None if comparison.committee is None else list(comparison.committee),
        "added": list(comparison.added),
        "dropped": list(comparison.dropped),
        "changed": comparison.changed,
        "visited": prop.visited,
        "search_failed": prop.search_failed,
    }


CHARTS = ("spread", "matrix")
# Rendered charts by (name, digest of the document): a closed election's
# document never changes, and the spread chart is matplotlib's (a few hundred
# milliseconds at 30 candidates), so each process draws it once.
_rendered: OrderedDict[tuple[str, str], str] = OrderedDict()
_rendered_lock = threading.Lock()
_RENDERED_MAX = 64


def charts(document: Mapping[str, Any], names: Collection[str] = CHARTS) -> dict[str, str]:
    """SVG charts of a results document, by name: ``"spread"`` and ``"matrix"``
    (only those in `names` are drawn).

    Each SVG is an image to assistive technology (``role="img"``) named by a
    ``<title>`` and described by a ``<desc>`` saying what it shows in words; the
    figures themselves are in the document, for a table beside the chart.
    """
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    drawn: dict[str, str] = {}
    for name in CHARTS:
        if name not in names:
            continue
        with _rendered_lock:
            svg = _rendered.get((name, digest))
        if svg is None:
            svg = draw(document, name)
            with _rendered_lock:
                _rendered[(name, digest)] = svg
                while len(_rendered) > _RENDERED_MAX:
                    _rendered.popitem(last=False)
        drawn[name] = svg
    return drawn


def draw(document: Mapping[str, Any], name: str) -> str:
    """One chart of `CHARTS`, drawn anew (`charts` keeps what it drew)."""
    # matplotlib loads on first use only: counting at the close needs no charts.
    from storyline.elections.charts import label_svg, render_matrix, render_spread

    data = document["spread"]
    spread = Spread(
        candidates=tuple(data["candidates"]),
        counts=np.asarray(data["counts"], dtype=np.int64).reshape(
            len(data["candidates"]), len(data["positions"])
        ),
        num_ballots=data["ballots"],
    )
    seats = document["seats"]
    order = list(data["candidates"])
    winners = ", ".join(document["winners"]) or "none (a tie decides)"
    if name == "spread":
        return label_svg(
            render_spread(spread, seats=seats),
            name="spread",
            title=f"Condorcet spread of {spread.num_ballots} ballots",
            description="Bubble chart: one row per candidate in the official order ("
            + ", ".join(order)
            + "); a bubble's area is the number of ballots placing the candidate at that "
            f"average position, from 1 (only first choice) to {len(order)}. "
            f"Elected: {winners}.",
        )
    matrix = PairwiseMatrix(
        candidates=tuple(document["candidates"]),
        d=np.asarray(document["pairwise"], dtype=np.int64).reshape(
            len(document["candidates"]), len(document["candidates"])
        ),
        num_voters=document["ballots"],
    )
    return label_svg(
        render_matrix(matrix, order),
        name="matrix",
        title="Pairwise preferences",
        description="Heat map: each cell counts the ballots preferring the row's "
        "candidate to the column's, green where the row wins and red where it loses; "
        "rows and columns in the official order (" + ", ".join(order) + ").",
    )


def ballot_file(candidates: Sequence[str], ballots: Iterable[str]) -> str:
    """The ballots as CIVS's anonymized ballot file (``civs_ballots.csv``).

    One line per ballot, sorted by its ranks ("no opinion" first, written
    ``No opinion`` as CIVS does), so that the file says which ballots were cast
    and nothing about the order they were cast in.  It reads back with
    ``storyline.elections.read_civs(..., proportional=False)`` into the profile
    :func:`count` counts.  A candidate name with a comma cannot be written
    (the format has no quoting): :class:`ValueError`.
    """
    out = io.StringIO()
    write_civs(parse_ballots(candidates, ballots), out)
    return out.getvalue()
