"""The dependency rules of docs/architecture.md, checked by walking the imports.

Layers, bottom up: `domain` and `elections` (pure); the kernel's schema
(`kernel.schema`); every subsystem's `models`; the rest of the kernel; each
subsystem's services; its `api`, `pages` and `cli`; the edge (`app`,
`bootstrap`, `cli`, `asgi`). A module may import only from its own layer
and the layers below, and only through the doors listed here. Across
subsystems, a module may import only the subsystems its own declares in
`REQUIRES` (never their pages), and those declarations form no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyline.subsystems import SUBSYSTEMS

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "storyline"
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from storyline.tracker import stories` imports a module.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _modules(folder: str = "") -> Iterator[tuple[str, Path]]:
    root = PACKAGE / folder if folder else PACKAGE
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield _module_name(path), path


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _storyline(names: set[str]) -> set[str]:
    return {n for n in names if _under(n, "storyline")}


SUBSYSTEM_PACKAGES = tuple(f"storyline.{name}" for name in SUBSYSTEMS)
EDGE = ("storyline.app", "storyline.asgi", "storyline.bootstrap", "storyline.cli")


def _role(module: str) -> str:
    """Which layer a storyline module belongs to."""
    if _under(module, "storyline.domain", "storyline.elections"):
        return "pure"
    if _under(module, "storyline.config", "storyline.errors", "storyline.kernel.schema"):
        return "foundation"
    parts = module.split(".")
    if len(parts) >= 3 and _under(module, *SUBSYSTEM_PACKAGES) and parts[2] == "models":
        return "models"
    if _under(module, "storyline.kernel"):
        return "kernel"
    if _under(module, *SUBSYSTEM_PACKAGES):
        part = parts[2] if len(parts) >= 3 else ""
        if part in {"api", "pages", "cli"}:
            return part
        return "services"
    if _under(module, "storyline.http"):
        return "http"
    if _under(module, "storyline.api"):
        return "api"
    if _under(module, "storyline.web"):
        return "pages"
    return "edge"


# What each layer may import from storyline, by the layers of the imported modules.
ALLOWED: dict[str, set[str]] = {
    "pure": {"pure"},
    "foundation": {"foundation", "pure"},
    "models": {"foundation", "pure", "models"},
    "kernel": {"foundation", "pure", "models", "kernel"},
    "services": {"foundation", "pure", "models", "kernel", "services"},
    "api": {"foundation", "pure", "models", "kernel", "services", "api", "http"},
    "pages": {"foundation", "pure", "models", "kernel", "services", "pages", "http"},
    "cli": {"foundation", "pure", "models", "kernel", "services", "cli", "edge"},
    "http": {"foundation", "pure", "models", "kernel", "http"},
    "edge": {
        *("foundation", "pure", "models", "kernel", "services"),
        *("api", "pages", "cli", "http", "edge"),
    },
}


@pytest.mark.parametrize("module", [name for name, _ in _modules()])
def test_module_imports_only_the_layers_below(module: str) -> None:
    path = dict(_modules())[module]
    role = _role(module)
    offences = []
    for name in sorted(_storyline(_imports(path))):
        if name in {"storyline", "storyline.__version__"}:
            continue
        if _role(name) not in ALLOWED[role]:
            offences.append(f"{module} ({role}) imports {name} ({_role(name)})")
    assert offences == []


@pytest.mark.parametrize("module", [name for name, _ in _modules()])
def test_only_the_edges_import_the_web_framework(module: str) -> None:
    path = dict(_modules())[module]
    if _role(module) in {"api", "pages", "edge"} or _under(module, "storyline.http"):
        return
    names = _imports(path)
    # The CLI starts the server, so `serve` may import uvicorn lazily.
    bad = sorted(n for n in names if _under(n, *WEB_FRAMEWORKS) and n != "uvicorn")
    assert bad == []


@pytest.mark.parametrize("folder", ["domain", "elections"])
def test_pure_packages_do_no_io(folder: str) -> None:
    for module, path in _modules(folder):
        names = _imports(path)
        assert not [n for n in names if _under(n, "sqlalchemy", *WEB_FRAMEWORKS)], module


def test_every_part_is_classified() -> None:
    # A renamed folder must not make the checks above pass vacuously.
    roles = {_role(name) for name, _ in _modules()}
    assert roles >= {"pure", "foundation", "models", "kernel", "services", "api", "pages", "edge"}


def _requires(subsystem: str) -> tuple[str, ...]:
    """The `REQUIRES` a subsystem declares in its `__init__`, read without importing it."""
    tree = ast.parse((PACKAGE / subsystem / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "REQUIRES" for t in targets):
                assert node.value is not None
                value = ast.literal_eval(node.value)
                assert isinstance(value, tuple), subsystem
                return value
    raise AssertionError(f"storyline.{subsystem} declares no REQUIRES")


def _subsystem(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in SUBSYSTEMS else None


@pytest.mark.parametrize("module", [name for name, _ in _modules() if _subsystem(name)])
def test_subsystems_import_only_what_they_declare(module: str) -> None:
    own = _subsystem(module)
    assert own is not None
    declared = set(_requires(own))
    offences = []
    for name in sorted(_storyline(_imports(dict(_modules())[module]))):
        other = _subsystem(name)
        if other is None or other == own:
            continue
        if other not in declared:
            offences.append(f"{module} imports {name}, but {own} does not require {other}")
        elif _role(name) == "pages":
            # Pages show another subsystem's content through its panels.
            offences.append(f"{module} imports the pages of {other}: {name}")
    assert offences == []


def test_declared_dependencies_form_no_cycle() -> None:
    requires = {name: _requires(name) for name in SUBSYSTEMS}
    assert all(set(deps) <= set(SUBSYSTEMS) for deps in requires.values()), requires
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"cycle: {' -> '.join((*path, name))}"
        if name not in done:
            for dep in requires[name]:
                visit(dep, (*path, name))
            done.add(name)

    for name in SUBSYSTEMS:
        visit(name, ())


def test_every_subsystem_folder_is_listed() -> None:
    # A folder with tables or routes that the app does not list would be
    # silently left out of the migrations, the API and the pages.
    kit = {"api", "domain", "elections", "http", "kernel", "migrations", "web"}
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} - kit
    parts = ("models.py", "api", "pages")
    found = {f for f in folders if any((PACKAGE / f / part).exists() for part in parts)}
    assert found == set(SUBSYSTEMS)
