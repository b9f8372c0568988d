"""The ASGI entry point for uvicorn: builds the app from the environment."""

import sys

from storyline.app import create_app
from storyline.bootstrap import build
from storyline.config import Settings

# A thread that holds the GIL keeps it for up to the switch interval (5 ms by
# default) before another may run. With several requests in a process that
# made one request wait for others' slices: at 8 clients on 2 cores, 1 ms
# took the slowest 1% of single-story reads from about 120-220 ms to about
# 60 ms and raised throughput by half (a few percent more switching).
SWITCH_INTERVAL = 0.001
sys.setswitchinterval(SWITCH_INTERVAL)

app = create_app(build(Settings.from_env()))
