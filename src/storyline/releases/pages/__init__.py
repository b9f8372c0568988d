"""The pages of release cycles, and their panel on the story page."""

from storyline.releases.pages import milestones, reports

ROUTERS = (milestones.router, reports.router)
PANELS = milestones.PANELS
