"""The server process's interpreter settings, as `storyline serve`'s workers
get them from importing the ASGI entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc, json, sys
import storyline.asgi as entry
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "young": gc.get_threshold()[0],
    "switch": sys.getswitchinterval(),
    "app": type(entry.app).__name__,
}))
"""


def test_the_built_app_is_frozen_out_of_garbage_collection(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STORYLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'storyline.db'}",
        "STORYLINE_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    # Everything the app is built from is out of the collector's reach: far
    # more than the few thousand objects a bare interpreter starts with.
    assert probe["frozen"] > 100_000
    assert probe["young"] == 10_000
    assert probe["switch"] == 0.001
    assert probe["app"] == "_Edge"
