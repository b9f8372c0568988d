"""The release cycle pages (cycles, schedules, stable support, milestones,
weekly reports, freeze exceptions, velocity), and their panels on the story
page."""

from storyline.releases.pages import cycles, exceptions, milestones, reports, velocity

ROUTERS = (cycles.router, milestones.router, reports.router, exceptions.router, velocity.router)
PANELS = (*milestones.PANELS, *exceptions.PANELS)
