"""The append-only rules: released revisions are recorded and unchanged, the
history is one numbered line, and `audit()` names every way to break them
(tried on copies of the migrations folder)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from storyline.errors import InvalidInput
from storyline.kernel import migrate

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_migrations_follow_the_rules() -> None:
    assert migrate.audit() == []


def test_every_released_revision_is_unchanged() -> None:
    by_id = {revision.id: revision for revision in migrate.history()}
    released = migrate.released()
    assert released, "released.txt lists the revisions of 0.1.0"
    for entry in released:
        assert entry.revision in by_id, f"released revision {entry.revision} was deleted"
        digest = migrate.file_digest(by_id[entry.revision].path)
        assert digest == entry.sha256, f"released revision {entry.revision} was edited"


def test_the_first_release_is_0001_and_0002() -> None:
    assert [(e.revision, e.release) for e in migrate.released()[:2]] == [
        ("0001", "0.1.0"),
        ("0002", "0.1.0"),
    ]


def test_history_is_one_numbered_line() -> None:
    history = migrate.history()
    assert [r.id for r in history] == [f"{n:04d}" for n in range(1, len(history) + 1)]
    assert [r.down_revision for r in history] == [None, *(r.id for r in history[:-1])]
    assert migrate.heads() == [history[-1].id]
    assert history[0].message == "initial schema"


def test_the_package_ships_what_is_read_at_run_time() -> None:
    # Files beside the revisions that are not Python are only installed when
    # package-data names them (released.txt is read by `storyline db history`).
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["storyline"]
    package = migrate.MIGRATIONS.parent
    for path in migrate.MIGRATIONS.rglob("*"):
        if path.is_dir() or path.suffix in {".py", ".pyc", ".md"}:
            continue
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


def _revision(location: Path, number: str) -> Path:
    return next((location / "versions").glob(f"{number}_*.py"))


def test_an_edited_released_revision_is_refused(released_copy: Path) -> None:
    path = _revision(released_copy, "0001")
    path.write_text(path.read_text().replace("sa.String(length=255)", "sa.String(length=200)", 1))
    assert migrate.audit(released_copy) == [
        f"{path.name}, released in 0.1.0, was edited: released revisions never change; "
        "restore it and put the change in a new revision"
    ]


def test_line_endings_alone_are_not_an_edit(released_copy: Path) -> None:
    path = _revision(released_copy, "0002")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert migrate.audit(released_copy) == []


def test_a_deleted_released_revision_is_refused(released_copy: Path) -> None:
    _revision(released_copy, "0002").unlink()
    assert migrate.audit(released_copy) == [
        "revision 0002, released in 0.1.0, is missing: released revisions are never deleted"
    ]


def _add(location: Path, name: str, revision: str, down: str, body: str = "pass") -> Path:
    path = location / "versions" / name
    path.write_text(
        f'"""{name}"""\n\n'
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n    {body}\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    return path


def test_two_heads_are_refused(released_copy: Path) -> None:
    _add(released_copy, "0003_one.py", "0003", "0002")
    _add(released_copy, "0004_other.py", "0004", "0002")
    problems = migrate.audit(released_copy)
    assert problems[0].startswith("the history has 2 heads (0003, 0004)")
    assert "revision 0002 has several children (0003, 0004)" in problems


def test_a_revision_below_a_released_one_is_refused(released_copy: Path) -> None:
    _add(released_copy, "0003_late.py", "0003", "0001")
    assert any("several children" in p for p in migrate.audit(released_copy))


def test_numbers_follow_the_history(released_copy: Path) -> None:
    _add(released_copy, "0007_jump.py", "0007", "0002")
    _add(released_copy, "0004_misnamed.py", "0008", "0007")
    assert migrate.audit(released_copy) == [
        "revision 0007 is number 3 in the history: its id must be '0003'",
        "revision 0008 is number 4 in the history: its id must be '0004'",
        "0004_misnamed.py: the file name must start with 0008_",
    ]


def test_a_revision_must_not_import_application_code(released_copy: Path) -> None:
    _add(
        released_copy,
        "0003_uses_the_app.py",
        "0003",
        "0002",
        body="from storyline.tracker import stories  # noqa: F401",
    )
    assert migrate.audit(released_copy) == [
        "0003_uses_the_app.py imports application code (storyline.tracker)"
    ]


def test_releasing_records_the_new_revisions(released_copy: Path) -> None:
    path = _add(released_copy, "0003_next.py", "0003", "0002")
    assert migrate.next_id(released_copy) == "0004"
    [fresh] = migrate.mark_released("0.2.0", released_copy)
    assert fresh.id == "0003"
    last = (released_copy / "released.txt").read_text().splitlines()[-1]
    assert last == f"0003 0.2.0 {migrate.file_digest(path)}"
    assert [r.release for r in migrate.history(released_copy)][-1] == "0.2.0"
    assert migrate.mark_released("0.2.1", released_copy) == []
    path.write_text(path.read_text() + "\n# an afterthought\n")
    assert migrate.audit(released_copy)[0].startswith("0003_next.py, released in 0.2.0")


def test_a_malformed_released_file_is_reported(released_copy: Path) -> None:
    with (released_copy / "released.txt").open("a") as out:
        out.write("0003 0.2.0\n")
    with pytest.raises(InvalidInput, match="expected 'REVISION RELEASE SHA256'"):
        migrate.released(released_copy)
