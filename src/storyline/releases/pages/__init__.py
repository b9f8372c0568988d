"""The release cycle pages (cycles, schedules, stable support, milestones,
weekly reports, velocity), and their panel on the story page."""

from storyline.releases.pages import cycles, milestones, reports, velocity

ROUTERS = (cycles.router, milestones.router, reports.router, velocity.router)
PANELS = milestones.PANELS
