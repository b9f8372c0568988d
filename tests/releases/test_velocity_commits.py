"""`storyline velocity commits` and the counting behind it, on real repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli.main import app
from storyline.errors import StorylineError
from storyline.releases.velocity import git
from tests.releases.gitrepo import Repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """master: 2 commits, tag 1.0; 3 commits; a side branch of 4 commits merged
    (with --no-ff); 1 commit, tag 2.0.b1; a branch `stable` off 1.0 with 2
    backports; an unmerged branch `wip` of 5 commits off 2.0.b1."""
    r = Repo(tmp_path_factory.mktemp("velocity") / "project")
    r.commit("base", 2)
    r.tag("1.0")
    r.git("branch", "stable")
    r.commit("feature", 3)
    r.git("checkout", "--quiet", "-b", "side")
    r.commit("side", 4)
    r.git("checkout", "--quiet", "master")
    r.merge("side")
    r.commit("fix", 1)
    r.tag("2.0.b1")
    r.git("checkout", "--quiet", "stable")
    r.commit("backport", 2)
    r.git("checkout", "--quiet", "-b", "wip", "master")
    r.commit("wip", 5)
    r.git("checkout", "--quiet", "master")
    return r


@pytest.fixture(scope="module")
def bare(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bare") / "project.git"
    repo.git("clone", "--quiet", "--bare", str(repo.path), str(path))
    return path


def test_merged_side_branch_commits_count_and_the_merge_does_not(repo: Repo) -> None:
    # 3 on master + 4 from the side branch + 1 fix; the merge commit is left out.
    assert git.count_commits(repo.path, "1.0", "2.0.b1") == 8
    assert repo.git("rev-list", "--count", "1.0..2.0.b1") == "9"


def test_from_to_is_reachable_from_to_and_not_from_from(repo: Repo) -> None:
    # Backports on a stable branch are not in master's range, and the other
    # way round; the range is empty when TO is an ancestor of FROM.
    assert git.count_commits(repo.path, "1.0", "stable") == 2
    assert git.count_commits(repo.path, "stable", "2.0.b1") == 8
    assert git.count_commits(repo.path, "2.0.b1", "1.0") == 0
    assert git.count_commits(repo.path, "2.0.b1", "wip") == 5
    assert git.count_commits(repo.path, "2.0.b1", "2.0.b1") == 0


def test_branches_commits_and_short_ids_are_refs(repo: Repo) -> None:
    tip = repo.git("rev-parse", "master")
    assert git.count_commits(repo.path, "1.0", tip) == 8
    assert git.count_commits(repo.path, "1.0", tip[:10]) == 8
    assert git.count_commits(repo.path, "master~1", "wip") == 6


def test_bare_repositories_count_the_same(repo: Repo, bare: Path) -> None:
    assert git.count_commits(bare, "1.0", "2.0.b1") == 8
    boundaries = [git.Boundary("a", "1.0"), git.Boundary("b", "2.0.b1"), git.Boundary("c", "wip")]
    assert git.count_ranges(bare, boundaries) == [8, 5]


def _error(call: Callable[[], object]) -> StorylineError:
    with pytest.raises(StorylineError) as caught:
        call()
    return caught.value


def test_unknown_refs_are_named(repo: Repo) -> None:
    error = _error(lambda: git.count_commits(repo.path, "1.0", "2.0.b9"))
    assert error.code == "unknown_ref"
    assert "to '2.0.b9'" in error.message
    assert error.details == [{"field": "to", "message": "unknown ref '2.0.b9'"}]
    error = _error(lambda: git.count_commits(repo.path, "0.9", "2.0.b1"))
    assert error.code == "unknown_ref"
    assert "from '0.9'" in error.message


def test_a_ref_cannot_be_an_option(repo: Repo, tmp_path: Path) -> None:
    # Options that rev-list would obey: an output file, all refs, a
    # different count. Each is only an unknown name.
    for ref in (f"--output={tmp_path / 'x'}", "--all", "--max-count=1", "-n1"):
        assert _error(lambda ref=ref: git.count_commits(repo.path, ref, "2.0.b1")).code == (
            "unknown_ref"
        )
    assert not (tmp_path / "x").exists()
    assert _error(lambda: git.count_commits(repo.path, "1.0\n2.0.b1", "master")).code == (
        "invalid_ref"
    )
    assert _error(lambda: git.count_commits(repo.path, "", "master")).code == "invalid_ref"
    assert _error(lambda: git.count_commits(repo.path, "a" * 256, "master")).code == "invalid_ref"


def test_not_a_repository(repo: Repo, tmp_path: Path) -> None:
    assert _error(lambda: git.count_commits(tmp_path, "a", "b")).code == "not_a_repository"
    assert _error(lambda: git.count_commits(tmp_path / "none", "a", "b")).code == (
        "not_a_repository"
    )
    # A folder inside a checkout is not the checkout.
    (repo.path / "sub").mkdir(exist_ok=True)
    assert _error(lambda: git.count_commits(repo.path / "sub", "1.0", "2.0.b1")).code == (
        "not_a_repository"
    )


def test_git_missing(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert _error(lambda: git.count_commits(repo.path, "1.0", "2.0.b1")).code == "git_missing"


def test_callers_git_environment_is_ignored(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_DIR", str(tmp_path))
    assert git.count_commits(repo.path, "1.0", "2.0.b1") == 8


def test_cli_prints_the_count_and_json(repo: Repo, bare: Path) -> None:
    result = CliRunner().invoke(app, ["velocity", "commits", str(bare), "1.0", "2.0.b1"])
    assert result.exit_code == 0, result.output
    assert result.output == "8\n"
    result = CliRunner().invoke(
        app, ["velocity", "commits", str(repo.path), "2.0.b1", "wip", "--json"]
    )
    assert json.loads(result.output) == {
        "repository": str(repo.path),
        "from": "2.0.b1",
        "to": "wip",
        "commits": 5,
    }


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["{repo}", "1.0", "nope"], "unknown_ref", "to 'nope'"),
        (["{repo}/sub", "1.0", "2.0.b1"], "not_a_repository", "is not a git repository"),
        (["{repo}", "1.0", "--", "--all"], "unknown_ref", "to '--all'"),
    ],
)
def test_command_errors_have_a_code_and_no_traceback(
    repo: Repo, args: list[str], code: str, text: str
) -> None:
    # The real entry point, as a release manager runs it.
    argv = [a.format(repo=repo.path) for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "storyline", "velocity", "commits", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        check=False,
    )
    assert done.returncode == 2
    assert f"error ({code})" in done.stderr
    assert text in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
