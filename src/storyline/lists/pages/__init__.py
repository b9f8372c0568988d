"""The pages of worklists and boards, and their panels on the story page and
the dashboard."""

from storyline.lists.pages import panels, worklists

ROUTERS = (worklists.router,)
PANELS = panels.PANELS
