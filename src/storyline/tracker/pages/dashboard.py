"""The front page: for a signed-in person their open tasks by status, the
stories they created or follow and what happened on them; for everyone
else the recently updated stories."""

from __future__ import annotations

from fastapi import APIRouter, Response

from storyline.tracker import page_data as pages
from storyline.tracker.page_data import describe_event
from storyline.web.panels import DASHBOARD, render_slot
from storyline.web.rendering import PageRoute, render
from storyline.web.security import PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ANONYMOUS_STORIES = 25


@router.get("/")
def dashboard(ctx: PageDep) -> Response:
    with ctx.container.db.read() as session:
        if ctx.signed_in is None:
            recent = pages.recent_stories(session, actor=ctx.actor, limit=ANONYMOUS_STORIES)
            return render(ctx, "tracker/welcome.html", stories=recent.items)
        board = pages.dashboard(session, actor=ctx.actor)
        activity = [(e, describe_event(e, board.names)) for e in board.activity]
        return render(
            ctx,
            "tracker/dashboard.html",
            board=board,
            activity=activity,
            panels=render_slot(session, ctx, DASHBOARD),
        )
