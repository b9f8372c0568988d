"""Helpers shared by the tracker's pages: paging links, the page size, form
errors by field, and how timeline events read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from sqlalchemy.orm import Session

from storyline.accounts import preferences
from storyline.domain import events as ev
from storyline.domain.statuses import TASK_STATUSES
from storyline.errors import InvalidInput, StorylineError
from storyline.kernel.models import Event
from storyline.kernel.paging import PageRequest
from storyline.tracker.page_data import Names, event_info
from storyline.web.rendering import redirect
from storyline.web.security import PageContext

DEFAULT_PAGE_SIZE = 25
MIN_PAGE_SIZE = 5
MAX_PAGE_SIZE = 100
# The preference the profile page sets (StoryBoard's name for it).
PAGE_SIZE_PREFERENCE = "page_size"


def sign_in_first(ctx: PageContext) -> Response:
    target = ctx.request.url.path
    if ctx.request.url.query:
        target += "?" + ctx.request.url.query
    return redirect(ctx, "/login?next=" + quote(target, safe=""))


def page_size(ctx: PageContext, session: Session) -> int:
    if ctx.signed_in is None:
        return DEFAULT_PAGE_SIZE
    prefs = preferences.get_preferences(session, actor=ctx.actor, user_id=ctx.signed_in.user_id)
    value = prefs.get(PAGE_SIZE_PREFERENCE)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(MIN_PAGE_SIZE, min(MAX_PAGE_SIZE, value))
    return DEFAULT_PAGE_SIZE


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters replaced (None removes one)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None or value == "":
            continue
        if isinstance(value, (list, tuple)):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    query = urlencode(items)
    return request.url.path + ("?" + query if query else "")


@dataclass(frozen=True)
class Pager:
    """Numbered pages over an offset-paged list."""

    number: int
    size: int
    total: int | None
    shown: int
    request: Request

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        if self.total is None:
            return self.number + (1 if self.shown == self.size else 0)
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_item(self) -> int:
        return self.offset + 1 if self.shown else 0

    @property
    def last_item(self) -> int:
        return self.offset + self.shown

    @property
    def previous_url(self) -> str | None:
        if self.number <= 1:
            return None
        return url_with(self.request, page=self.number - 1 if self.number > 2 else None)

    @property
    def next_url(self) -> str | None:
        if self.number >= self.pages:
            return None
        return url_with(self.request, page=self.number + 1)


def page_number(value: int | None) -> int:
    if value is not None and value < 1:
        raise InvalidInput.field("page", "must be at least 1")
    return value or 1


def page_request(
    number: int,
    size: int,
    *,
    sort_field: str,
    sort_dir: str,
    sortable: Any,
    default_field: str,
) -> PageRequest:
    field = sort_field if sort_field in sortable else default_field
    direction = sort_dir if sort_dir in ("asc", "desc") else "desc"
    return PageRequest(limit=size, offset=(number - 1) * size, sort_field=field, sort_dir=direction)


def errors_by_field(error: StorylineError) -> dict[str, str]:
    """Messages keyed by form field ("" for the form as a whole)."""
    found: dict[str, str] = {}
    details = error.details
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict) and "field" in item:
                name = str(item["field"]).split(".")[-1]
                found.setdefault(name, str(item.get("message", error.message)))
    elif isinstance(details, dict) and isinstance(details.get("field"), str):
        found[details["field"]] = error.message
    if not found:
        found[""] = error.message
    return found


def parse_user_ref(value: str, ctx: PageContext, field: str) -> int | None:
    """A user typed into a form: "me", an id, or "#id Name" from a suggestion."""
    text = value.strip()
    if not text:
        return None
    if text.lower() == "me":
        if ctx.signed_in is None:
            raise InvalidInput.field(field, "sign in to use “me”")
        return ctx.signed_in.user_id
    head = text.lstrip("#").split(" ", 1)[0]
    if not head.isdigit():
        raise InvalidInput.field(field, "enter a user id, or pick a person from the list")
    return int(head)


def status_label(status: str) -> str:
    return TASK_STATUSES.get(status, status)


def describe_event(event: Event, names: Names) -> str:
    """One sentence for a timeline event, without its author."""
    info = event_info(event)
    kind = event.event_type
    task = info.get("task_title")
    task_part = f"task “{task}”" if task else "a task"
    if kind == ev.STORY_CREATED:
        return "created the story"
    if kind == ev.STORY_DETAILS_CHANGED:
        changed = ", ".join(sorted((info.get("new") or {}).keys())) or "details"
        return f"changed the story ({changed})"
    if kind == ev.STORY_PRIVACY_CHANGED:
        return "changed who can see the story"
    if kind in (ev.TAGS_ADDED, ev.TAGS_REMOVED):
        tags = ", ".join(str(t) for t in info.get("tags") or [])
        verb = "added" if kind == ev.TAGS_ADDED else "removed"
        return f"{verb} tags {tags}"
    if kind == ev.TASK_CREATED:
        return f"added {task_part}"
    if kind == ev.TASK_DELETED:
        return f"deleted {task_part}"
    if kind == ev.TASK_STATUS_CHANGED:
        old = status_label(str(info.get("old_status", "")))
        new = status_label(str(info.get("new_status", "")))
        return f"changed the status of {task_part} from {old} to {new}"
    if kind == ev.TASK_ASSIGNEE_CHANGED:
        new_id = info.get("new_assignee_id")
        if isinstance(new_id, int):
            return f"assigned {task_part} to {names.user(new_id)}"
        return f"unassigned {task_part}"
    if kind == ev.TASK_PRIORITY_CHANGED:
        return f"changed the priority of {task_part} to {info.get('new_priority')}"
    if kind == ev.TASK_DETAILS_CHANGED:
        fields = sorted((info.get("new") or {}).keys())
        readable = ", ".join(f.removesuffix("_id") for f in fields) or "details"
        return f"changed the {readable} of {task_part}"
    if kind == ev.USER_COMMENT:
        return "commented"
    if kind == ev.COMMENT_EDITED:
        return "edited a comment"
    if kind in (ev.STORY_LINK_ADDED, ev.STORY_LINK_REMOVED):
        verb = "linked" if kind == ev.STORY_LINK_ADDED else "unlinked"
        other = info.get("other_story_id")
        story = names.stories.get(other) if isinstance(other, int) else None
        if story is None:
            return f"{verb} another story"
        how = str(info.get("kind", "")).replace("_", " ")
        return f"{verb} story {story.id} “{story.title}” ({how})"
    return kind.replace("_", " ")
