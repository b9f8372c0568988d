"""The tracker's pages: the dashboard, projects and groups, stories, search
and their administration."""

from storyline.tracker.pages import admin, dashboard, projects, search, stories

ROUTERS = (dashboard.router, projects.router, stories.router, search.router, admin.router)
PANELS = admin.PANELS
