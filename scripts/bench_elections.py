#!/usr/bin/env python
"""Time the elections library on large inputs and print a table.

1. Schulze on a deterministic random profile of 100,000 ballots x 30 candidates:
   storyline's ``schulze`` against pref-voting's ``beat_path`` (its Schulze) on the
   same full rankings, both from ballots to winners and for the method alone
   (pref-voting computes its pairwise tally when the profile is built).
2. CIVS proportional mode, 450 ballots x 23 candidates x 7 seats: a realistic
   profile (popular candidates, partial ballots) and the worst case, uniformly
   random ballots, where the CIVS search wanders until its 500-set limit.

Each figure is the median of several runs.  Usage:
    .venv/bin/python scripts/bench_elections.py [--runs N] [--ballots N]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from storyline.elections import Profile, pairwise, schulze
from storyline.elections.proportional import civs_proportional

SEED = 20140606  # fixed so that every run times the same ballots


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def random_rankings(ballots: int, candidates: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Full strict rankings (so both libraries read them the same way): row = ballot,
    entries = candidate indices best first.  Candidates have different popularity so
    the result is not a pure tie-fest."""
    rng = np.random.default_rng(SEED)
    strength = np.linspace(1.0, 0.0, candidates)
    noise = rng.gumbel(size=(ballots, candidates))
    return np.argsort(-(strength + noise), axis=1).astype(np.int64)


def realistic_profile(ballots: int, candidates: int, seed: int) -> Profile:
    """Partial ballots drawn around candidate popularity, like a real TC election."""
    rng = np.random.default_rng(seed)
    popularity = rng.gamma(1.0, 1.0, candidates)
    rows = []
    for _ in range(ballots):
        taste = np.log(popularity * rng.gamma(2.0, 1.0, candidates)) + rng.gumbel(size=candidates)
        order = np.argsort(-taste)[: rng.integers(3, candidates + 1)]
        ranks = [candidates] * candidates
        for place, c in enumerate(order, start=1):
            ranks[int(c)] = place
        rows.append(ranks)
    return Profile.from_rankings([f"c{i}" for i in range(candidates)], rows)


def uniform_profile(ballots: int, candidates: int, seed: int) -> Profile:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(ballots):
        order = rng.permutation(candidates)[: rng.integers(1, candidates + 1)]
        ranks = [candidates] * candidates
        for place, c in enumerate(order, start=1):
            ranks[int(c)] = place
        rows.append(ranks)
    return Profile.from_rankings([f"c{i}" for i in range(candidates)], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=30)
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    order = random_rankings(args.ballots, args.candidates)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, args.candidates + 1), axis=1)
    names = [f"c{i}" for i in range(args.candidates)]

    def ours_from_ballots() -> Any:
        return schulze(pairwise(Profile.from_rankings(names, ranks.tolist())))

    t_ours_full, ours = median_time(ours_from_ballots, args.runs)
    profile = Profile.from_rankings(names, ranks.tolist())
    matrix = pairwise(profile)
    t_ours_pairwise, _ = median_time(lambda: pairwise(profile), args.runs)
    t_ours_method, _ = median_time(lambda: schulze(matrix), args.runs)
    size = f"{args.ballots:,} x {args.candidates}"

    try:
        from pref_voting.margin_based_methods import beat_path
        from pref_voting.profiles import Profile as PvProfile
    except ImportError:  # pragma: no cover - pref-voting is a test dependency
        print("pref-voting is not installed; only storyline is timed", file=sys.stderr)
        rows.append(("Schulze, ballots to winners", size, f"{t_ours_full:.3f}", "-"))
    else:

        def theirs_from_ballots() -> Any:
            return beat_path(PvProfile(order.tolist()))

        t_pv_full, theirs = median_time(theirs_from_ballots, max(1, min(args.runs, 3)))
        pv_profile = PvProfile(order.tolist())
        t_pv_method, _ = median_time(lambda: beat_path(pv_profile), args.runs)
        ours_winners = sorted(ours.ranking[0])
        theirs_winners = sorted(f"c{c}" for c in theirs)
        if ours_winners != theirs_winners:
            print(f"winners differ: {ours_winners} vs {theirs_winners}", file=sys.stderr)
            return 1
        rows.append(
            (
                "Schulze, ballots to winners",
                size,
                f"{t_ours_full:.3f}",
                f"{t_pv_full:.3f} (x{t_pv_full / t_ours_full:.1f})",
            )
        )
        rows.append(
            (
                "Schulze, method on a built profile",
                size,
                f"{t_ours_method:.4f}",
                f"{t_pv_method:.4f} (x{t_pv_method / t_ours_method:.1f})",
            )
        )
    rows.append(("Pairwise matrix (storyline)", size, f"{t_ours_pairwise:.3f}", "-"))

    for label, prof in (
        ("CIVS proportional, realistic", realistic_profile(450, 23, SEED)),
        ("CIVS proportional, uniform (worst)", uniform_profile(450, 23, SEED)),
    ):
        t, result = median_time(functools.partial(civs_proportional, prof, 7), args.runs)
        note = f"{len(result.committees)} sets" + (
            ", search gave up" if result.search_failed else ""
        )
        rows.append((label, f"450 x 23, 7 seats ({note})", f"{t:.3f}", "-"))

    header = ("Benchmark", "Size", "storyline (s)", "pref-voting (s, ratio)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
