"""Where the shared election data lives: ``shared/`` beside the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "elections"


def require_data(path: Path = DATA) -> Path:
    """`path` under the shared data; skips the test when a developer's clone
    has no shared/ beside it."""
    if not path.exists():
        message = f"shared election data not found at {path}"
        # CI always has shared/ beside the clone: missing data there is a failure.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_json(name: str) -> Any:
    return json.loads(require_data(DATA / name).read_text(encoding="utf-8"))
