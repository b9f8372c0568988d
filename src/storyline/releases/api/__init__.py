"""Release cycles over JSON: cycles and their schedules, series, release
managers and the iCalendar feed; stable support."""

from storyline.releases.api import cycles, support

ROUTERS = (cycles.router, support.router)
