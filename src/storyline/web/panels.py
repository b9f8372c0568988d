"""Panels: a part of one subsystem's page shown on another subsystem's page.

The story page shows the worklists that hold the story; the dashboard shows
the signed-in person's worklists and boards. The tracker cannot import the
lists' pages (subsystems meet only through services), so each subsystem
offers its panels (`<subsystem>.pages.PANELS`), the HTTP edge collects them
by slot, and a page renders whatever is in its slots. A panel loads its own
data through its own services, inside the page's unit of work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.web.security import PageContext

# The slots pages offer, and what they pass to a panel.
STORY: Final = "story"  # the story page, below its tasks: story_id
DASHBOARD: Final = "dashboard"  # a signed-in person's front page: nothing
ADMIN: Final = "admin"  # the administration index: nothing
TEAM: Final = "team"  # a team's administration page: team_id

Render = Callable[[Session, PageContext, Mapping[str, Any]], Markup]


@dataclass(frozen=True)
class Panel:
    slot: str
    render: Render


def by_slot(panels: Iterable[Panel]) -> dict[str, tuple[Panel, ...]]:
    slots: dict[str, list[Panel]] = defaultdict(list)
    for panel in panels:
        if panel.slot not in {STORY, DASHBOARD, ADMIN, TEAM}:
            raise ValueError(f"no page offers the panel slot {panel.slot!r}")
        slots[panel.slot].append(panel)
    return {slot: tuple(found) for slot, found in slots.items()}


def render_slot(session: Session, ctx: PageContext, slot: str, **values: Any) -> list[Markup]:
    """The panels of `slot`, rendered in the order the subsystems are mounted."""
    panels: dict[str, tuple[Panel, ...]] = ctx.request.app.state.panels
    return [panel.render(session, ctx, values) for panel in panels.get(slot, ())]
