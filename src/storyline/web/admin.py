"""What the administration pages of every subsystem share: the superuser
guard, list pages with a search box and a "create" form, saving a form with
its errors shown by field, and paging of the admin lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Form, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel.access import require_superuser
from storyline.kernel.paging import Page, PageRequest
from storyline.kernel.validation import invalid_input
from storyline.web.rendering import field_errors, redirect, render, sign_in_first
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


@dataclass(frozen=True)
class Listing:
    """An admin list: a page of objects found by the search box `q`, and the
    form that creates one, shown again with its values and errors when it fails."""

    template: str
    load: Callable[[Session, PageContext, str, PageRequest], Page[Any]]
    blank: Mapping[str, Any] = field(default_factory=dict)
    sort_field: str = "name"

    def render(
        self,
        ctx: PageContext,
        *,
        q: str = "",
        offset: int | None = None,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        with ctx.container.db.read() as session:
            page = self.load(session, ctx, q, page_request(offset, self.sort_field))
        return render(
            ctx,
            self.template,
            status=status,
            items=page.items,
            q=q,
            paging=paging(offset, page.total),
            values=values or dict(self.blank),
            errors=errors or {},
        )


def save(
    ctx: PageContext,
    write: Callable[[Session], str],
    *,
    again: Callable[[dict[str, str]], Response],
    missing: str | None = None,
) -> Response:
    """Run a form's write in one transaction and go to the page it names.

    A form error shows the form again (`again`) with the errors by field and
    status 400. With `missing`, a NotFound is that field's error (the form
    named something that does not exist) rather than a 404 page.
    """
    try:
        with ctx.container.db.write() as session:
            target = write(session)
    except FORM_ERRORS as error:
        return again(form_errors(error))
    except NotFound as error:
        if missing is None:
            raise
        return again({missing: error.message})
    return redirect(ctx, target)
