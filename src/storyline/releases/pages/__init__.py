"""The pages of release cycles, and their panels on the story page."""

from storyline.releases.pages import exceptions

ROUTERS = (exceptions.router,)
PANELS = exceptions.PANELS
