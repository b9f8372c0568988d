"""Helpers the list pages of every subsystem share: numbered paging, the
page size a person chose, URLs with changed query parameters, form errors by
field, and people typed into forms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session

from storyline.accounts import preferences
from storyline.errors import InvalidInput, StorylineError
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import is_number, parse_id
from storyline.web.security import PageContext

DEFAULT_PAGE_SIZE = 25
MIN_PAGE_SIZE = 5
MAX_PAGE_SIZE = 100
# The preference the profile page sets (StoryBoard's name for it).
PAGE_SIZE_PREFERENCE = "page_size"


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
    # False when `total` is an estimate (long story lists; see kernel.paging).
    exact: bool = True

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
    if not is_number(head):
        raise InvalidInput.field(field, "enter a user id, or pick a person from the list")
    return parse_id(head, field)
