"""What the lists show on other subsystems' pages: the worklists that hold a
story (on the story page, with a form to add it to one of one's own), and a
signed-in person's worklists and boards (on the dashboard). The services
choose the rows, through the gate; the panels only render them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.lists import boards, worklists
from storyline.lists.models import Board, Worklist
from storyline.web.panels import DASHBOARD, STORY, Panel
from storyline.web.rendering import fragment
from storyline.web.security import PageContext

# Rows in each of the panels' lists.
STORY_LISTS = 20
ADDABLE_LISTS = 50
DASHBOARD_LISTS = 10


@dataclass(frozen=True)
class StoryWorklists:
    containing: list[Worklist]
    addable: list[Worklist]


@dataclass(frozen=True)
class MyLists:
    worklists: list[Worklist]
    boards: list[Board]


def story_panel(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    story_id = int(values["story_id"])
    found = StoryWorklists(
        containing=worklists.story_worklists(
            session, actor=ctx.actor, story_id=story_id, limit=STORY_LISTS
        ),
        addable=worklists.addable_worklists(
            session, actor=ctx.actor, story_id=story_id, limit=ADDABLE_LISTS
        ),
    )
    return fragment(ctx, "lists/_story_worklists.html", story_id=story_id, worklists=found)


def dashboard_panel(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    mine = MyLists(
        worklists=worklists.my_worklists(session, actor=ctx.actor, limit=DASHBOARD_LISTS),
        boards=boards.my_boards(session, actor=ctx.actor, limit=DASHBOARD_LISTS),
    )
    return fragment(ctx, "lists/_my_lists.html", lists=mine)


PANELS = (Panel(STORY, story_panel), Panel(DASHBOARD, dashboard_panel))
