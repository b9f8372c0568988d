"""Clones of the projects' remote repositories, kept up to date by the worker.

A project whose repository is a URL is counted in a bare clone of it under
the data directory, `DATA_DIR/repositories/{project id}.git`: the folder is
named by the project, never by the URL, so no location can name a path.
The notifications worker calls `sync` on every pass; a clone is made when
missing and fetched again once `REFRESH_INTERVAL` has passed since the last
attempt, successful or not, so an unreachable host is tried every interval
rather than on every pass.

Every git process runs with a clean environment (no caller's `GIT_*`, no
user or system configuration, no credential prompts), only git's http,
https and git transports allowed (`file://`, `ssh` and `ext::` are refused
by git itself, whatever the stored location), and a timeout after which
its whole process group is killed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select, update

from storyline.config import Settings
from storyline.kernel.db import Database
from storyline.releases.models import ProjectRepository
from storyline.releases.velocity.repositories import REMOTE_SCHEMES, is_remote

__all__ = ["REFRESH_INTERVAL", "mirror_path", "sync"]

FOLDER = "repositories"
REFRESH_INTERVAL = dt.timedelta(minutes=10)
# A first clone of a repository the size of nova takes a minute or two on a
# good link; a process still running after this is stuck and is killed.
GIT_TIMEOUT_SECONDS = 300.0
# The worker also delivers email and webhooks: a pass stops starting new
# fetches after this long, and the rest wait for the next pass.
PASS_BUDGET_SECONDS = 60.0
MAX_ERROR_LENGTH = 300
# Branches and tags only: a code review server's other refs (Gerrit's
# refs/changes/*) can outnumber them a hundred times and count nothing.
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")

_ALLOWED = sorted(REMOTE_SCHEMES)
_OPTIONS = [
    "-c",
    "protocol.allow=never",
    *(option for scheme in _ALLOWED for option in ("-c", f"protocol.{scheme}.allow=always")),
    # An empty value clears the helpers: nothing may answer a password prompt.
    "-c",
    "credential.helper=",
    # Automatic gc in the foreground, so that the timeout covers it too.
    "-c",
    "gc.autoDetach=false",
    # A commit-graph makes counting about twice as fast.
    "-c",
    "fetch.writeCommitGraph=true",
]
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def mirror_path(data_dir: Path, project_id: int) -> Path:
    """Where the clone of a project's remote repository lives."""
    return data_dir / FOLDER / f"{project_id}.git"


class _Failed(Exception):
    pass


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "SSH_ASKPASS"}
    env.update(
        # No prompt for a user name or password: a remote that asks fails.
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        # Enforced again below `protocol.*.allow`, for any transport git
        # starts on its own (redirects, alternates).
        GIT_ALLOW_PROTOCOL=":".join(_ALLOWED),
        # The account's and the system's configuration could rewrite URLs
        # (`insteadOf`) or add helpers.
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        LC_ALL="C",
    )
    return env


def _short(message: str) -> str:
    """The last line git printed, without credentials a URL may carry."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = _USERINFO.sub("***@", lines[-1] if lines else "git failed")
    text = text.removeprefix("fatal: ")
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def _git(*args: str) -> None:
    try:
        process = subprocess.Popen(
            ["git", *_OPTIONS, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
            # Its own process group, so that a timeout kills the helpers it
            # started (git-remote-https, index-pack) with it.
            start_new_session=True,
        )
    except FileNotFoundError:
        raise _Failed("git is not installed (or not on PATH)") from None
    try:
        _, errors = process.communicate(timeout=GIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise _Failed(f"git took more than {GIT_TIMEOUT_SECONDS:.0f} s and was stopped") from None
    if process.returncode != 0:
        raise _Failed(_short(errors))


def _fetch(url: str, repo: Path) -> None:
    # `--` ends the options: the URL can never be read as one.
    _git("-C", str(repo), "fetch", "--quiet", "--prune", "--", url, *REFSPECS)


def _clone(url: str, target: Path) -> None:
    """A fresh bare clone, made beside the target and moved into place only
    once complete, so that a failed clone leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _git("init", "--quiet", "--bare", str(work))
        _fetch(url, work)
        try:
            work.rename(target)
        except OSError:
            # Another worker finished the same clone first.
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class _Due:
    project_id: int
    location: str
    fresh: bool  # never fetched from this location: clone anew


def _due(db: Database, now: dt.datetime, force: bool) -> list[_Due]:
    query = (
        select(
            ProjectRepository.project_id,
            ProjectRepository.location,
            ProjectRepository.fetched_at,
        )
        .where(ProjectRepository.location.contains("://"))
        # Never fetched first, then the stalest.
        .order_by(
            ProjectRepository.fetched_at.is_not(None),
            ProjectRepository.fetched_at,
            ProjectRepository.project_id,
        )
    )
    if not force:
        query = query.where(
            or_(
                ProjectRepository.fetched_at.is_(None),
                ProjectRepository.fetched_at < now - REFRESH_INTERVAL,
            )
        )
    with db.read() as session:
        rows = session.execute(query).all()
    return [_Due(p, loc, at is None) for p, loc, at in rows if is_remote(loc)]


def _record(db: Database, due: _Due, now: dt.datetime, error: str | None) -> None:
    with db.write() as session:
        # Only if the location is still the one fetched: an administrator
        # may have changed it meanwhile, and the next pass fetches that one.
        session.execute(
            update(ProjectRepository)
            .where(
                ProjectRepository.project_id == due.project_id,
                ProjectRepository.location == due.location,
            )
            .values(fetched_at=now, last_error=error)
        )


def sync(
    db: Database, settings: Settings, now: dt.datetime, *, force: bool = False
) -> list[tuple[int, str | None]]:
    """Clone or fetch every remote repository that is due (all of them with
    `force`), each outside any transaction, recording the outcome on its
    row. Answers each attempted project with its error (None: fetched). One
    repository's failure is recorded on its row and the others carry on."""
    started = time.monotonic()
    outcomes: list[tuple[int, str | None]] = []
    for due in _due(db, now, force):
        if not force and time.monotonic() - started > PASS_BUDGET_SECONDS:
            break
        target = mirror_path(settings.data_dir, due.project_id)
        error = None
        try:
            if due.fresh or not target.is_dir():
                _clone(due.location, target)
            else:
                _fetch(due.location, target)
        except (_Failed, OSError) as failure:
            error = str(failure) or type(failure).__name__
        _record(db, due, now, error)
        outcomes.append((due.project_id, error))
    return outcomes
