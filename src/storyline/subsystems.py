"""The subsystems, in the order the app mounts them.

Adding a subsystem is adding its folder and one line here: the HTTP edge
(`storyline.app`) mounts each one's API routes (`<name>.api.ROUTERS`) and
pages (`<name>.pages.ROUTERS`, its `templates/` and `static/`), the command
line mounts its commands (`<name>.cli.register`), and the migrations see its
tables (`<name>.models`). A part a subsystem does not have is simply absent.
`tests/unit/test_layering.py` checks what each part may import.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Final

SUBSYSTEMS: Final = (
    # Busiest first: the API tries routes in this order.
    "tracker",
    "lists",
    "accounts",
    "notifications",
    "releases",
    "voting",
)


def parts(part: str) -> list[ModuleType]:
    """Each subsystem's module `part` ("models", "api", "pages", "cli"), in
    order, for the subsystems that have one."""
    found = []
    for name in SUBSYSTEMS:
        module = f"storyline.{name}.{part}"
        if importlib.util.find_spec(module) is not None:
            found.append(importlib.import_module(module))
    return found


def with_folder(name: str) -> list[str]:
    """The subsystems that have a `name` folder ("templates", "static")."""
    root = Path(__file__).resolve().parent
    return [sub for sub in SUBSYSTEMS if (root / sub / name).is_dir()]


def folders(name: str) -> list[Path]:
    """Each subsystem's `name` folder that exists, in order."""
    root = Path(__file__).resolve().parent
    return [root / sub / name for sub in with_folder(name)]


def import_models() -> None:
    """Register every table with the metadata (the kernel's and each subsystem's)."""
    importlib.import_module("storyline.kernel.models")
    parts("models")
