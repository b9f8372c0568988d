"""The dependency direction of STYLE.md, checked by walking the imports:
domain and elections import no other layer; db imports no service or edge;
services import no edge; only api/ and web/ import the web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "storyline"
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")
EDGES = ("storyline.api", "storyline.web", "storyline.cli", "storyline.jobs")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": ("storyline.db", "storyline.services", *EDGES, "sqlalchemy", *WEB_FRAMEWORKS),
    "elections": ("storyline.db", "storyline.services", *EDGES, "sqlalchemy", *WEB_FRAMEWORKS),
    "db": ("storyline.services", *EDGES, *WEB_FRAMEWORKS),
    "services": (*EDGES, *WEB_FRAMEWORKS),
    "cli": WEB_FRAMEWORKS,
    "jobs": WEB_FRAMEWORKS,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    offences = []
    for path in _modules(layer):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                # The CLI starts the server, so it may import uvicorn lazily in `serve`.
                if layer == "cli" and name == "uvicorn":
                    continue
                offences.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offences == []


def test_layers_exist() -> None:
    # A renamed folder must not make the check above pass vacuously.
    for layer in ("domain", "db", "services", "api"):
        assert _modules(layer), layer
