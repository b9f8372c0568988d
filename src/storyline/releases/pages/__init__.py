"""The release cycle pages (cycles, schedules, stable support, milestones,
weekly reports), and their panel on the story page."""

from storyline.releases.pages import cycles, milestones, reports

ROUTERS = (cycles.router, milestones.router, reports.router)
PANELS = milestones.PANELS
