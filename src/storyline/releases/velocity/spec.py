"""The report file of `storyline velocity report`, in TOML or JSON.

```toml
baseline = "grizzly"
current = "icehouse"

[projects.nova]
repo = "nova"        # a local clone, relative to this file; bare or not
grizzly = ["2012.2", "2013.1.g1", "2013.1.g2", "2013.1.g3"]
icehouse = ["2013.2", "2014.1.b1", "2014.1.b2"]

[projects.swift]     # no repository: the counts themselves
grizzly = [120, 95, 80]
icehouse = [130, 90]
```

A project lists, under each cycle's name, either its boundaries (the
previous release's tag, then each milestone's tag: N + 1 refs give N
milestones; it needs `repo`) or its counts per milestone. The current cycle
may have fewer milestones than the baseline, never more. Anything else is
refused with the place of the mistake, before any repository is read.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyline.errors import InvalidInput
from storyline.releases.velocity import git
from storyline.releases.velocity.scores import MilestoneScore, score_milestones

__all__ = [
    "MAX_SPEC_BYTES",
    "Project",
    "Spec",
    "as_json",
    "file_name",
    "load_spec",
    "parse_spec",
    "run",
]

MAX_SPEC_BYTES = 1_000_000
MAX_PROJECTS = 200
MAX_MILESTONES = 20
MAX_COUNT = 10_000_000
MAX_NAME_LENGTH = 100
# Names become chart file names: letters, digits and . _ - (and / for
# "openstack/nova", which becomes "openstack_nova").
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    repo: Path | None
    # Per cycle (baseline, current): refs (boundaries) or counts.
    baseline: list[str] | list[int]
    current: list[str] | list[int]


@dataclass(frozen=True, slots=True)
class Spec:
    baseline: str
    current: str
    projects: list[Project]


def _error(where: str, message: str) -> InvalidInput:
    return InvalidInput.field(where, message)


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH or not _NAME.fullmatch(value):
        raise _error(
            where,
            f"must be a name of 1 to {MAX_NAME_LENGTH} letters, digits, '.', '_', '-' or '/'",
        )
    return value


def file_name(project: str) -> str:
    """The base name of a project's charts."""
    return project.replace("/", "_")


def _milestones(value: object, where: str, *, repo: Path | None) -> list[str] | list[int]:
    if not isinstance(value, list) or not value:
        raise _error(where, "must be a non-empty list of boundaries (refs) or of counts")
    if all(isinstance(v, str) for v in value):
        if repo is None:
            raise _error(where, "boundaries (refs) need the project's repo")
        if not 2 <= len(value) <= MAX_MILESTONES + 1:
            raise _error(
                where,
                f"needs the previous release's tag and 1 to {MAX_MILESTONES} milestone tags",
            )
        for index, ref in enumerate(value):
            if not ref or len(ref) > git.MAX_REF_LENGTH:
                raise _error(
                    f"{where}[{index}]", f"must be a ref of 1 to {git.MAX_REF_LENGTH} characters"
                )
        return list(value)
    # bool is an int in Python; true is no count.
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        if len(value) > MAX_MILESTONES:
            raise _error(where, f"holds more than {MAX_MILESTONES} milestones")
        for index, count in enumerate(value):
            if not 0 <= count <= MAX_COUNT:
                raise _error(f"{where}[{index}]", f"must be a count from 0 to {MAX_COUNT}")
        return list(value)
    raise _error(where, "must list only refs (strings) or only counts (whole numbers)")


def _size(milestones: list[str] | list[int]) -> int:
    # N + 1 boundaries delimit N milestones.
    return len(milestones) - 1 if isinstance(milestones[0], str) else len(milestones)


def parse_spec(data: object, *, base: Path) -> Spec:
    """Validate a decoded spec; relative repository paths are taken from `base`."""
    if not isinstance(data, dict):
        raise _error("spec", "must be a table with baseline, current and projects")
    unknown = sorted(set(data) - {"baseline", "current", "projects"})
    if unknown:
        raise _error(unknown[0], "is not a key of a velocity spec (baseline, current, projects)")
    for key in ("baseline", "current", "projects"):
        if key not in data:
            raise _error(key, "is missing")
    baseline = _name(data["baseline"], "baseline")
    current = _name(data["current"], "current")
    if baseline == current:
        raise _error("current", "must be another cycle than the baseline")
    projects = data["projects"]
    if not isinstance(projects, dict) or not projects:
        raise _error("projects", "must be a table of at least one project")
    if len(projects) > MAX_PROJECTS:
        raise _error("projects", f"holds more than {MAX_PROJECTS} projects")
    parsed = []
    seen: dict[str, str] = {}
    for name, table in projects.items():
        where = f"projects.{name}"
        _name(name, where)
        if file_name(name) in seen:
            raise _error(where, f"gives the same chart file name as {seen[file_name(name)]}")
        seen[file_name(name)] = name
        if not isinstance(table, dict):
            raise _error(where, f"must be a table with {baseline} and {current}")
        unknown = sorted(set(table) - {"repo", baseline, current})
        if unknown:
            raise _error(f"{where}.{unknown[0]}", f"is not repo, {baseline} or {current}")
        repo = None
        if "repo" in table:
            if not isinstance(table["repo"], str) or not 0 < len(table["repo"]) <= 4096:
                raise _error(f"{where}.repo", "must be the path of a local git repository")
            repo = base / Path(table["repo"]).expanduser()
        cycles = []
        for cycle in (baseline, current):
            if cycle not in table:
                raise _error(f"{where}.{cycle}", "is missing")
            cycles.append(_milestones(table[cycle], f"{where}.{cycle}", repo=repo))
        if _size(cycles[1]) > _size(cycles[0]):
            raise _error(
                f"{where}.{current}",
                f"has {_size(cycles[1])} milestones, more than the {_size(cycles[0])} of "
                f"{baseline}: there is nothing to compare the last ones with",
            )
        parsed.append(Project(name, repo, cycles[0], cycles[1]))
    return Spec(baseline, current, parsed)


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file: JSON if it ends in .json, else TOML."""
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise _error("spec", f"{path} is larger than {MAX_SPEC_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _error("spec", f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise _error("spec", f"{path} is not valid {kind}: {exc}") from None
    return parse_spec(data, base=path.resolve().parent)


def _counts(project: Project, cycle: str, milestones: list[str] | list[int]) -> list[int]:
    if isinstance(milestones[0], int):
        return [int(m) for m in milestones]
    assert project.repo is not None
    where = f"projects.{project.name}.{cycle}"
    return git.count_ranges(
        project.repo,
        [git.Boundary(f"{where}[{i}]", str(ref)) for i, ref in enumerate(milestones)],
    )


def run(spec: Spec) -> dict[str, list[MilestoneScore]]:
    """Each project's milestones, counted and scored, in the spec's order."""
    return {
        project.name: score_milestones(
            _counts(project, spec.baseline, project.baseline),
            _counts(project, spec.current, project.current),
        )
        for project in spec.projects
    }


def as_json(result: dict[str, list[MilestoneScore]]) -> dict[str, Any]:
    """The report as `--json` prints it."""
    return {
        "projects": {
            name: {"milestones": [m.as_json() for m in milestones]}
            for name, milestones in result.items()
        }
    }
