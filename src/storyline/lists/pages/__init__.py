"""The pages of worklists and boards, and their panels on the story page and
the dashboard."""

from storyline.lists.pages import boards, panels, worklists

ROUTERS = (worklists.router, boards.router)
PANELS = panels.PANELS
