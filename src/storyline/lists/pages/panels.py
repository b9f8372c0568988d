"""What the lists show on other subsystems' pages: the worklists that hold a
story (on the story page, with a form to add it to one of one's own), and a
signed-in person's worklists and boards (on the dashboard)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.lists.pages.worklists import my_lists, story_worklists
from storyline.web.panels import DASHBOARD, STORY, Panel
from storyline.web.rendering import fragment
from storyline.web.security import PageContext


def story_panel(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    story_id = int(values["story_id"])
    return fragment(
        ctx,
        "lists/_story_worklists.html",
        story_id=story_id,
        worklists=story_worklists(session, ctx, story_id),
    )


def dashboard_panel(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    return fragment(ctx, "lists/_my_lists.html", lists=my_lists(session, ctx))


PANELS = (Panel(STORY, story_panel), Panel(DASHBOARD, dashboard_panel))
