"""The ASGI entry point for uvicorn: builds the app from the environment."""

import gc
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

# The collector's youngest generation is collected once tracked objects grow
# by this many. Python's 700 is crossed inside a single list request (a page
# of 100 stories holds a few thousand objects at once), so a process ran a
# collection every few requests for objects about to be freed anyway: 1,637
# collections in 600 list requests, against 7 with this threshold.
YOUNG_GENERATION_THRESHOLD = 10_000

app = create_app(build(Settings.from_env()))

# What is built by now (the app, its routes, models, validators, the
# database's statements) lives as long as the process. Frozen, it is left
# out of every collection, so that a full collection walks only what requests
# made since: on a 100-story list, full collections of 150 ms fell to under
# 1 ms, and such a pause stalls every request the process holds.
gc.collect()
gc.freeze()
gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
