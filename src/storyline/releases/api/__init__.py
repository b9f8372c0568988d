"""Release cycles over JSON: cycles and their schedules, series, release
managers and the iCalendar feed; stable support; targeting, milestone status
and weekly reports; project leads and freeze exceptions; velocity and the
projects' repositories."""

from storyline.releases.api import (
    cycles,
    exceptions,
    leads,
    reports,
    support,
    targeting,
    velocity,
)

ROUTERS = (
    cycles.router,
    support.router,
    targeting.router,
    reports.router,
    exceptions.router,
    leads.router,
    velocity.router,
)
