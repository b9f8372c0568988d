"""What the administration pages of every subsystem share: the superuser
guard, form errors by field, and paging of the admin lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response
from pydantic import ValidationError

from storyline.errors import Conflict, InvalidInput
from storyline.kernel.access import require_superuser
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import invalid_input
from storyline.web.rendering import field_errors, sign_in_first
from storyline.web.security import PageContext

PAGE = 50
Checkbox = Annotated[str | None, Form()]


def guard(ctx: PageContext) -> Response | None:
    """A redirect to sign in for anonymous visitors; 403 for members."""
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    require_superuser(ctx.actor)
    return None


# The errors a form shows next to its fields; anything else (403, 404, 503)
# is an error page.
FORM_ERRORS = (InvalidInput, Conflict, ValidationError)


def form_errors(error: Exception) -> dict[str, str]:
    if isinstance(error, ValidationError):
        return field_errors(invalid_input(error))
    assert isinstance(error, InvalidInput | Conflict)
    return field_errors(error)


def checked(value: str | None) -> bool:
    return value == "on"


def page_request(offset: int | None, sort_field: str = "name") -> PageRequest:
    if offset is not None and offset < 0:
        raise InvalidInput.field("offset", "must not be negative")
    return PageRequest(limit=PAGE, offset=offset or 0, sort_field=sort_field)


def paging(offset: int | None, total: int | None) -> dict[str, int | None]:
    start = offset or 0
    return {
        "offset": start,
        "previous": max(0, start - PAGE) if start > 0 else None,
        "next": start + PAGE if total is not None and start + PAGE < total else None,
        "total": total,
    }
