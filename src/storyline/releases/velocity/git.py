"""Counting commits without merges in a local git repository, bare or not.

Everything goes through the `git` command line: it reads every repository
format git itself reads (packs, commit-graphs, alternates, shallow clones)
and `rev-list --count` is the fastest way to count a range. Refs are
resolved first with `cat-file --batch-check`, which reads them on its
standard input, so a ref can never be taken for an option; the counting
itself only ever receives full object ids.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from storyline.errors import InvalidInput, ServiceUnavailable, StorylineError

__all__ = ["MAX_REF_LENGTH", "Boundary", "clear_cache", "count_commits", "count_ranges", "resolve"]

# Longer than any tag or branch name a project uses; git allows more, but a
# ref this long in a report is a mistake.
MAX_REF_LENGTH = 255
# One count on a repository the size of nova takes well under a second; a
# minute means something is wrong (a network file system, a huge repository).
TIMEOUT_SECONDS = 60.0

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _environment(repo: Path) -> dict[str, str]:
    # The caller's GIT_DIR, GIT_WORK_TREE and the like would point git at
    # another repository; the ceiling stops git from climbing from REPO to an
    # enclosing checkout, so a folder that is not a repository is refused
    # rather than silently counted in its parent.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CEILING_DIRECTORIES"] = str(repo.parent)
    env["LC_ALL"] = "C"
    return env


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=_environment(repo),
            check=False,
        )
    except FileNotFoundError:
        raise ServiceUnavailable(
            "git is not installed (or not on PATH): velocity counts commits with it.",
            code="git_missing",
        ) from None
    except subprocess.TimeoutExpired:
        raise ServiceUnavailable(
            f"git took more than {TIMEOUT_SECONDS:.0f} s on {repo}.", code="git_timeout"
        ) from None
    if done.returncode != 0:
        message = done.stderr.strip().removeprefix("fatal: ")
        if "not a git repository" in message:
            raise _not_a_repository(repo)
        raise StorylineError(f"git failed on {repo}: {message}", code="git_failed")
    return done.stdout


def _not_a_repository(repo: Path) -> InvalidInput:
    return InvalidInput(
        f"{repo} is not a git repository (give the top folder of a checkout, or a bare "
        "repository).",
        code="not_a_repository",
        details=[{"field": "repository", "message": "is not a git repository"}],
    )


def _check_ref(ref: str, role: str) -> None:
    if not ref or len(ref) > MAX_REF_LENGTH or _CONTROL.search(ref):
        raise InvalidInput(
            f"{role} {ref!r} is not a ref: give a tag, branch or commit of at most "
            f"{MAX_REF_LENGTH} printable characters.",
            code="invalid_ref",
            details=[{"field": role, "message": "is not a valid ref"}],
        )


def resolve(repo: Path, refs: Sequence[tuple[str, str]]) -> list[str]:
    """The commit ids of `refs`, given as (role, ref) pairs where the role
    names the ref in errors ("from", "to", "grizzly[2]"). Annotated tags are
    peeled to their commit."""
    repo = repo.expanduser().resolve()
    for role, ref in refs:
        _check_ref(ref, role)
    if not repo.is_dir():
        raise _not_a_repository(repo)
    # One process for all refs; each answer is an object id, or the query
    # followed by "missing" (or "ambiguous").
    query = "".join(f"{ref}^{{commit}}\n" for _, ref in refs)
    answers = _git(repo, "cat-file", "--batch-check=%(objectname)", stdin=query).splitlines()
    ids = []
    for (role, ref), answer in zip(refs, answers, strict=True):
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", answer):
            raise InvalidInput(
                f"{role} {ref!r} is not a tag, branch or commit of {repo}"
                + (" (it is ambiguous)." if answer.endswith(" ambiguous") else "."),
                code="unknown_ref",
                details=[{"field": role, "message": f"unknown ref {ref!r}"}],
            )
        ids.append(answer)
    return ids


@dataclass(frozen=True, slots=True)
class Boundary:
    """Where a milestone starts or ends: a tag (or any ref), or, where a
    project has no tag for it, the last commit of a branch by the end of a day
    (UTC). `role` names it in errors ("from", "grizzly[2]")."""

    role: str
    ref: str
    until: dt.date | None = None


def _last_commit(repo: Path, branch: str, day: dt.date) -> str | None:
    # First parents: the branch's own history, not the dates of commits
    # merged into it, which are when they were written, not when they landed.
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    found = _git(repo, "rev-list", "-1", "--first-parent", f"--before={end.isoformat()}", branch)
    return found.strip() or None


# Object ids name immutable history: a count never changes, so the server
# counts each milestone of a repository once per process.
@functools.lru_cache(maxsize=4096)
def _count(repo: Path, start: str | None, end: str | None) -> int:
    # Both are object ids from `resolve`: nothing here can be read as an option.
    if end is None:
        return 0
    exclude = [f"^{start}"] if start is not None else []
    return int(_git(repo, "rev-list", "--count", "--no-merges", end, *exclude))


def clear_cache() -> None:
    """Forget the counts (for measuring them)."""
    _count.cache_clear()


def count_commits(repo: Path, start: str, end: str) -> int:
    """The commits without merges reachable from `end` and not from `start`
    (git's `start..end`): the work that landed between the two boundaries,
    including commits of branches merged in, but not the merges themselves."""
    start_id, end_id = resolve(repo, [("from", start), ("to", end)])
    return _count(repo.expanduser().resolve(), start_id, end_id)


def count_ranges(repo: Path, boundaries: Sequence[Boundary]) -> list[int]:
    """The commits between each pair of consecutive boundaries: the previous
    release, then each milestone. A branch boundary with no commit by its day
    is the start of history."""
    ids = resolve(repo, [(b.role, b.ref) for b in boundaries])
    repo = repo.expanduser().resolve()
    points = [
        _last_commit(repo, commit, b.until) if b.until is not None else commit
        for b, commit in zip(boundaries, ids, strict=True)
    ]
    return [_count(repo, start, end) for start, end in pairwise(points)]
