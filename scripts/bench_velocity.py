#!/usr/bin/env python
"""Time counting a milestone's commits in a repository the size of nova.

Builds once, with `git fast-import`, a bare repository shaped like a Gerrit
project's history: every change is a commit on top of a recent mainline
commit, merged with a merge commit (so half the commits are merges, as in
nova), cycles of milestones tagged on the mainline and each release tagged
on a release branch carrying a few backports. The repository is cached under
--data-dir, keyed by its shape, so later runs only measure.

Then times, as `storyline velocity commits` runs it (refs resolved, then
`git rev-list --count --no-merges`), the count of one milestone, of a whole
cycle's milestones, and of the whole history, each the median of --runs
runs; first as fast-import left the repository (as a fresh clone is), then
with a commit-graph (as `git gc` or `git commit-graph write` leaves it).

Usage:
    PYTHONPATH=src .venv/bin/python scripts/bench_velocity.py [--changes 20000]
        [--runs 20] [--data-dir var/bench] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from storyline.releases.velocity import git

# Bump when the generated history changes, so cached repositories are rebuilt.
GENERATOR_VERSION = 1
MILESTONES_PER_CYCLE = 3
CHANGES_PER_CYCLE = 2_400
BACKPORTS_PER_RELEASE = 5
FILES = 3_000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stream(changes: int, seed: int) -> Iterator[bytes]:
    """The fast-import stream of the whole history."""
    rng = random.Random(seed)
    clock = 1_300_000_000
    mark = 0
    mainline: list[int] = []
    cycle = 0

    def commit(ref: str, message: str, parents: list[int], path: str | None) -> tuple[int, bytes]:
        nonlocal mark, clock
        mark += 1
        clock += 60
        lines = [
            f"commit {ref}",
            f"mark :{mark}",
            f"committer Dev <dev@example.org> {clock} +0000",
            f"data {len(message)}",
            message,
        ]
        if parents:
            lines.append(f"from :{parents[0]}")
            lines.extend(f"merge :{p}" for p in parents[1:])
        if path is not None:
            body = f"{message} {rng.random()}\n"
            lines += [f"M 644 inline {path}", f"data {len(body)}", body]
        return mark, ("\n".join(lines) + "\n").encode()

    def tag(name: str, target: int) -> bytes:
        message = f"Release {name}"
        return (
            f"tag {name}\nfrom :{target}\ntagger Dev <dev@example.org> {clock} +0000\n"
            f"data {len(message)}\n{message}\n"
        ).encode()

    first, data = commit("refs/heads/master", "Initial commit", [], "README")
    mainline.append(first)
    yield data
    yield tag("0.0", first)
    for change in range(changes):
        # A change is based on a mainline commit of the last few merges, as
        # reviewed changes are, and merged by a merge commit.
        base = mainline[-1 - min(len(mainline) - 1, rng.randrange(6))]
        side, data = commit(
            "refs/heads/review", f"Change {change}", [base], f"src/f{rng.randrange(FILES)}.py"
        )
        yield data
        merged, data = commit(
            "refs/heads/master", f"Merge change {change}", [mainline[-1], side], None
        )
        mainline.append(merged)
        yield data
        position = (change + 1) % CHANGES_PER_CYCLE
        step = CHANGES_PER_CYCLE // (MILESTONES_PER_CYCLE + 1)
        if position and position % step == 0 and position // step <= MILESTONES_PER_CYCLE:
            yield tag(f"{cycle + 1}.0.b{position // step}", merged)
        elif position == 0:
            # The release: a branch off the mainline with backports, tagged there.
            cycle += 1
            tip = merged
            for backport in range(BACKPORTS_PER_RELEASE):
                tip, data = commit(
                    f"refs/heads/stable/{cycle}",
                    f"Backport {backport} to {cycle}.0",
                    [tip],
                    f"src/f{rng.randrange(FILES)}.py",
                )
                yield data
            yield tag(f"{cycle}.0", tip)


def build(path: Path, changes: int, seed: int) -> None:
    progress(f"building {path} ({changes:,} changes and their merges) with git fast-import...")
    started = time.perf_counter()
    scratch = path.with_suffix(".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    subprocess.run(["git", "init", "--quiet", "--bare", str(scratch)], check=True)
    importer = subprocess.Popen(
        ["git", "-C", str(scratch), "fast-import", "--quiet"], stdin=subprocess.PIPE
    )
    assert importer.stdin is not None
    for chunk in _stream(changes, seed):
        importer.stdin.write(chunk)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    # The review branch only carried each change to its merge.
    subprocess.run(["git", "-C", str(scratch), "update-ref", "-d", "refs/heads/review"], check=True)
    scratch.rename(path)
    progress(f"built in {time.perf_counter() - started:.1f} s")


def timed(label: str, runs: int, call: Callable[[], object]) -> tuple[float, object]:
    times = []
    result: object = None
    for run in range(runs):
        # Counts are cached by commit ids; each run measures git again.
        git.clear_cache()
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
        progress(f"  {label}: run {run + 1}/{runs} {times[-1] * 1000:.1f} ms")
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    if not CHANGES_PER_CYCLE <= args.changes <= 500_000 or not 1 <= args.runs <= 1_000:
        parser.error(f"--changes must be {CHANGES_PER_CYCLE} to 500000, --runs 1 to 1000")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    repo = args.data_dir / f"velocity-v{GENERATOR_VERSION}-{args.changes}-{args.seed}.git"
    if not repo.exists():
        build(repo, args.changes, args.seed)
    graph = repo / "objects" / "info" / "commit-graph"
    graph.unlink(missing_ok=True)
    total = int(subprocess.check_output(["git", "-C", str(repo), "rev-list", "--count", "--all"]))
    merges = int(
        subprocess.check_output(
            ["git", "-C", str(repo), "rev-list", "--count", "--merges", "--all"]
        )
    )
    # The last complete cycle: its release tag, its milestones, the release.
    cycles = args.changes // CHANGES_PER_CYCLE
    boundaries = [f"{cycles - 1}.0"] + [
        f"{cycles}.0.b{m}" for m in range(1, MILESTONES_PER_CYCLE + 1)
    ]
    print(f"repository: {repo}: {total:,} commits, {merges:,} of them merges, {cycles} cycles")
    rows = []
    for state in ("no commit-graph", "commit-graph"):
        if state == "commit-graph":
            subprocess.run(
                ["git", "-C", str(repo), "commit-graph", "write", "--reachable"], check=True
            )
        progress(f"{state}:")
        cases: list[tuple[str, Callable[[], object]]] = [
            (
                f"one milestone ({boundaries[1]}..{boundaries[2]})",
                lambda: git.count_commits(repo, boundaries[1], boundaries[2]),
            ),
            (
                f"a cycle's {MILESTONES_PER_CYCLE} milestones",
                lambda: git.count_ranges(repo, [git.Boundary(b, b) for b in boundaries]),
            ),
            ("the whole history (0.0..master)", lambda: git.count_commits(repo, "0.0", "master")),
        ]
        for label, call in cases:
            median, result = timed(label, args.runs, call)
            rows.append((state, label, median, result))
    print(f"{'repository':<16} {'count':<40} {'median ms':>10}  commits")
    for state, label, median, result in rows:
        print(f"{state:<16} {label:<40} {median * 1000:>10.1f}  {result}")


if __name__ == "__main__":
    main()
