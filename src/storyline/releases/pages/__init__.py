"""The release cycle pages (cycles, schedules, stable support, milestones,
weekly reports, freeze exceptions), and their panels on the story page."""

from storyline.releases.pages import cycles, exceptions, milestones, reports

ROUTERS = (cycles.router, milestones.router, reports.router, exceptions.router)
PANELS = (*milestones.PANELS, *exceptions.PANELS)
