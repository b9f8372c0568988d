"""Where the shared election data lives: ``shared/`` beside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "elections"


def load_json(name: str) -> Any:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared election data not found at {DATA}")
    return json.loads(path.read_text(encoding="utf-8"))
