"""Freeze exception pages: a cycle's requests, the request form (reached
from the story page's panel), and the decision page where release managers
advise and the project's lead grants or denies.

Every page reads and writes through the services the API uses, so the
gate, the roles and the one-open-request rule hold here as they do there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import Id, parse_id, validate
from storyline.releases import cycles
from storyline.releases import exceptions as service
from storyline.releases.exceptions import CommentIn, DecisionIn, ExceptionFilter, ExceptionIn
from storyline.releases.models import EXCEPTION_STATES, RISKS
from storyline.tracker.page_data import load_names
from storyline.web.listing import Pager, errors_by_field, page_number, page_size
from storyline.web.panels import STORY, Panel
from storyline.web.rendering import PageRoute, fragment, redirect, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TextField = Annotated[str, Form()]

# Requests listed on the story page's panel.
STORY_EXCEPTIONS = 20


def _int(value: str, field: str) -> int | None:
    # An id no row can have is refused here, before the form is shown again
    # with it (the form's choices read the story).
    value = value.strip()
    return parse_id(value, field) if value else None


@router.get("/cycles/{name}/exceptions")
def cycle_exceptions(
    ctx: PageDep, name: str, project: str = "", state: str = "", page: int | None = None
) -> Response:
    number = page_number(page)
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        size = page_size(ctx, session)
        filters = ExceptionFilter(
            cycle_id=cycle.id, project_id=_int(project, "project"), state=state or None
        )
        found = service.list_exceptions(
            session,
            actor=ctx.actor,
            filters=filters,
            page=PageRequest(limit=size, offset=(number - 1) * size, sort_dir="desc"),
        )
        pager = Pager(number, size, found.total, len(found.items), ctx.request)
        return render(
            ctx, "releases/exceptions.html", cycle=cycle,
            views=service.views(session, actor=ctx.actor, found=found.items),
            projects=service.cycle_projects(session, cycle.id), states=EXCEPTION_STATES,
            project=filters.project_id, state=state, pager=pager,
        )  # fmt: skip


def _request_form(
    ctx: PageContext, session: Session, story_id: int, *, values: Mapping[str, str],
    errors: Mapping[str, str], status: int = 200,
) -> Response:  # fmt: skip
    choices = service.request_choices(session, actor=ctx.actor, story_id=story_id)
    return render(
        ctx, "releases/exception_new.html", status=status, choices=choices, values=values,
        errors=errors, risks=RISKS,
    )  # fmt: skip


@router.get("/exceptions/new")
def new_exception(ctx: PageDep, story_id: Id) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        return _request_form(ctx, session, story_id, values={}, errors={})


@router.post("/exceptions")
def request_exception(
    ctx: FormDep, story_id: TextField = "", project_id: TextField = "", cycle_id: TextField = "",
    freeze: TextField = "feature", rationale: TextField = "", self_contained: TextField = "",
    days_to_merge: TextField = "", risk: TextField = "",
) -> Response:  # fmt: skip
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {
        "project_id": project_id, "cycle_id": cycle_id, "freeze": freeze,
        "rationale": rationale, "self_contained": self_contained,
        "days_to_merge": days_to_merge, "risk": risk,
    }  # fmt: skip
    story = _int(story_id, "story_id")
    if story is None:
        raise InvalidInput.field("story_id", "is required")
    try:
        with ctx.container.db.write() as session:
            data = validate(
                ExceptionIn,
                {
                    **values,
                    "story_id": story,
                    "cycle_id": cycle_id or None,
                    "days_to_merge": days_to_merge or None,
                    "self_contained": self_contained == "on",
                },
            )
            exception_id = service.request(session, actor=ctx.actor, data=data).id
    except InvalidInput as error:
        with ctx.container.db.read() as session:
            return _request_form(
                ctx, session, story, values=values, errors=errors_by_field(error), status=400
            )
    return redirect(ctx, f"/exceptions/{exception_id}")


def _decision_page(
    ctx: PageContext, session: Session, exception_id: int, *,
    errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    view = service.get_exception(session, actor=ctx.actor, exception_id=exception_id)
    e = view.exception
    names = load_names(
        session,
        actor=ctx.actor,
        user_ids=[e.requester_id, e.decider_id, *(c.author_id for c in view.comments)],
    )
    return render(
        ctx, "releases/exception.html", status=status, view=view, names=names,
        may_advise=service.may_advise(session, actor=ctx.actor, exception=e),
        may_decide=service.may_decide(session, actor=ctx.actor, exception=e),
        is_requester=ctx.signed_in is not None and ctx.actor.user_id == e.requester_id,
        tomorrow=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1),
        errors=errors or {}, values=values or {},
    )  # fmt: skip


@router.get("/exceptions/{exception_id:int}")
def exception_page(ctx: PageDep, exception_id: Id) -> Response:
    with ctx.container.db.read() as session:
        return _decision_page(ctx, session, exception_id)


def _post(
    ctx: PageContext, exception_id: int, form: str, values: dict[str, str], change: Any
) -> Response:
    """Run one change from the decision page; a field problem comes back to
    the page with the form's values, anything else is the error page."""
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    try:
        with ctx.container.db.write() as session:
            change(session, values)
    except InvalidInput as error:
        with ctx.container.db.read() as session:
            errors = {f"{form}_{k}": v for k, v in errors_by_field(error).items()}
            errors.setdefault(f"{form}_", error.message)
            return _decision_page(
                ctx, session, exception_id, errors=errors, values=values, status=400
            )
    return redirect(ctx, f"/exceptions/{exception_id}")


@router.post("/exceptions/{exception_id:int}/comments")
def comment(
    ctx: FormDep, exception_id: Id, content: TextField = "", advice: TextField = ""
) -> Response:
    def change(session: Session, values: dict[str, str]) -> None:
        data = validate(CommentIn, {"content": content, "advice": advice or None})
        service.comment(session, actor=ctx.actor, exception_id=exception_id, data=data)

    values = {"content": content, "advice": advice}
    return _post(ctx, exception_id, "comment", values, change)


@router.post("/exceptions/{exception_id:int}/decision")
def decide(
    ctx: FormDep,
    exception_id: Id,
    decision: TextField = "",
    reason: TextField = "",
    deadline: TextField = "",
) -> Response:
    def change(session: Session, values: dict[str, str]) -> None:
        data = validate(
            DecisionIn, {"decision": decision, "reason": reason, "deadline": deadline or None}
        )
        service.decide(session, actor=ctx.actor, exception_id=exception_id, data=data)

    values = {"decision": decision, "reason": reason, "deadline": deadline}
    return _post(ctx, exception_id, "decision", values, change)


@router.post("/exceptions/{exception_id:int}/withdraw")
def withdraw(ctx: FormDep, exception_id: Id) -> Response:
    def change(session: Session, values: dict[str, str]) -> None:
        service.withdraw(session, actor=ctx.actor, exception_id=exception_id)

    return _post(ctx, exception_id, "withdraw", {}, change)


def story_panel(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    """The story's freeze exception requests, and the way to ask for one."""
    story_id = int(values["story_id"])
    found = service.list_exceptions(
        session,
        actor=ctx.actor,
        filters=ExceptionFilter(story_id=story_id),
        page=PageRequest(limit=STORY_EXCEPTIONS, sort_dir="desc", count=False),
    )
    return fragment(
        ctx, "releases/_story_exceptions.html", story_id=story_id,
        views=service.views(session, actor=ctx.actor, found=found.items),
    )  # fmt: skip


PANELS = (Panel(STORY, story_panel),)
