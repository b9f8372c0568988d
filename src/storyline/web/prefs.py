"""The preferences that shape pages: page size, timeline event filters,
theme, and email notifications. Stored with accounts/preferences like any
other preference (StoryBoard's key names where it had them), so the API and
the CLI see the same values.

Pages read them with `load(session, ctx)` inside their own read unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from storyline.accounts import preferences
from storyline.domain import events
from storyline.errors import InvalidInput
from storyline.web.security import PageContext
from storyline.web.theme import PREFERENCE as THEME
from storyline.web.theme import THEMES

PAGE_SIZE = "page_size"
PAGE_SIZE_DEFAULT = 25
PAGE_SIZE_MIN, PAGE_SIZE_MAX = 5, 100
# StoryBoard's webclient kept one boolean per event type, "display_events_<type>".
EVENT_PREFIX = "display_events_"
# The events a story's timeline shows, in the order the form lists them.
TIMELINE_EVENTS: tuple[tuple[str, str], ...] = tuple(
    (name, kind.label) for name, kind in events.REGISTRY.items() if kind.subject == events.STORY
)
# The notifications service reads these (StoryBoard's names).
EMAIL_ENABLE = "plugin_email_enable"
EMAIL_DIGEST = "plugin_email_digest"


@dataclass(frozen=True)
class WebPreferences:
    page_size: int = PAGE_SIZE_DEFAULT
    # Event types the timeline shows; everything by default.
    timeline_events: frozenset[str] = frozenset(kind for kind, _ in TIMELINE_EVENTS)
    theme: str = "system"
    email_enabled: bool = False
    email_digest: bool = False

    def shows(self, event_type: str) -> bool:
        """True when the timeline shows events of this type (unknown types show)."""
        known = {kind for kind, _ in TIMELINE_EVENTS}
        return event_type not in known or event_type in self.timeline_events


DEFAULTS = WebPreferences()


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def parse(stored: Mapping[str, Any]) -> WebPreferences:
    """Stored preferences -> what pages use; bad or missing values fall back to defaults."""
    size = stored.get(PAGE_SIZE)
    page_size = (
        size
        if isinstance(size, int)
        and not isinstance(size, bool)
        and PAGE_SIZE_MIN <= size <= PAGE_SIZE_MAX
        else PAGE_SIZE_DEFAULT
    )
    shown = frozenset(
        kind for kind, _ in TIMELINE_EVENTS if _truthy(stored.get(EVENT_PREFIX + kind, True))
    )
    theme = stored.get(THEME)
    return WebPreferences(
        page_size=page_size,
        timeline_events=shown,
        theme=theme if isinstance(theme, str) and theme in THEMES else "system",
        email_enabled=_truthy(stored.get(EMAIL_ENABLE, False)),
        email_digest=_truthy(stored.get(EMAIL_DIGEST, False)),
    )


def load(session: Session, ctx: PageContext) -> WebPreferences:
    """The signed-in person's preferences (the defaults for anonymous readers)."""
    if ctx.signed_in is None:
        return DEFAULTS
    return parse(
        preferences.get_preferences(session, actor=ctx.actor, user_id=ctx.signed_in.user_id)
    )


def changes_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The preference changes a submitted preferences form asks for.

    Raises InvalidInput naming the field, so the form can show the error
    next to it."""
    raw_size = form.get(PAGE_SIZE, "").strip()
    try:
        page_size = int(raw_size)
    except ValueError:
        raise InvalidInput.field(PAGE_SIZE, "must be a whole number") from None
    if not PAGE_SIZE_MIN <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput.field(PAGE_SIZE, f"must be between {PAGE_SIZE_MIN} and {PAGE_SIZE_MAX}")
    theme = form.get(THEME, "system")
    if theme not in THEMES:
        raise InvalidInput.field(THEME, "must be system, light or dark")
    changes: dict[str, Any] = {PAGE_SIZE: page_size, THEME: theme}
    for kind, _ in TIMELINE_EVENTS:
        changes[EVENT_PREFIX + kind] = form.get(EVENT_PREFIX + kind) == "on"
    changes[EMAIL_ENABLE] = form.get(EMAIL_ENABLE) == "on"
    changes[EMAIL_DIGEST] = form.get(EMAIL_DIGEST) == "on"
    return changes
