"""The release cycle pages: cycles, schedules and stable support."""

from storyline.releases.pages import cycles

ROUTERS = (cycles.router,)
PANELS = ()
