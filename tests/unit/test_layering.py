"""The dependency rules of docs/architecture.md, checked by walking the imports.

Layers, bottom up: `domain` and `elections` (pure); the kernel's schema
(`kernel.schema`); every subsystem's `models`; the rest of the kernel; each
subsystem's services; its `api`, `pages` and `cli`; the edge (`app`,
`bootstrap`, `cli`, `asgi`). A module may import only from its own layer
and the layers below, and only through the doors listed here.
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
