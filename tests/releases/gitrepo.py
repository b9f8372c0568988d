"""Real git repositories for the velocity tests, built with the git command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Repo:
    """A non-bare repository with deterministic authors and dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tick = 0
        # The day of the next commits (UTC), for boundaries by date.
        self.day = "2014-01-01"
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=master")

    def git(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        date = f"{self.day}T12:00:{self._tick % 60:02d}Z"
        env.update(
            GIT_AUTHOR_NAME="Dev",
            GIT_AUTHOR_EMAIL="dev@example.org",
            GIT_COMMITTER_NAME="Dev",
            GIT_COMMITTER_EMAIL="dev@example.org",
            GIT_AUTHOR_DATE=date,
            GIT_COMMITTER_DATE=date,
            GIT_CONFIG_NOSYSTEM="1",
            HOME=str(self.path),
        )
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return done.stdout.strip()

    def commit(self, message: str, count: int = 1) -> None:
        for index in range(count):
            self._tick += 1
            self.git("commit", "--quiet", "--allow-empty", "-m", f"{message} {index}")

    def merge(self, branch: str) -> None:
        self._tick += 1
        self.git("merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", branch)

    def tag(self, name: str) -> None:
        # Annotated, as release tags are: counting must peel them.
        self.git("tag", "-a", "-m", name, name)
