"""Worklists, boards and due dates over JSON (StoryBoard's paths)."""

from storyline.lists.api import boards, due_dates, worklists

ROUTERS = (worklists.router, boards.router, due_dates.router)
