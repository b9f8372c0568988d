"""/v1/freeze_exceptions: requests, advice, decisions; and the flag that puts
a story under the string freeze (/v1/stories/{id}/translatable)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.kernel.validation import Id
from storyline.releases import exceptions as service
from storyline.releases import freeze
from storyline.releases.exceptions import (
    CommentIn,
    DecisionIn,
    ExceptionFilter,
    ExceptionIn,
    ExceptionView,
)
from storyline.releases.models import FreezeException, FreezeExceptionComment

router = APIRouter(tags=["release cycles"])


class CommentOut(BaseModel):
    id: int
    created_at: Timestamp
    author_id: int | None
    content: str
    advice: str | None

    @classmethod
    def of(cls, note: FreezeExceptionComment) -> CommentOut:
        return cls(
            id=note.id,
            created_at=note.created_at,
            author_id=note.author_id,
            content=note.content,
            advice=note.advice,
        )


class ContextOut(BaseModel):
    """What the lead weighs: days into the freeze (negative before it
    starts) and how many exceptions the project already granted this cycle
    (on stories the reader may see)."""

    freeze_starts: dt.date | None
    days_into_freeze: int | None
    project_granted: int


class ExceptionOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    cycle_id: int
    cycle_name: str
    story_id: int
    story_title: str
    project_id: int
    project_name: str
    freeze: str
    requester_id: int | None
    rationale: str
    self_contained: bool
    days_to_merge: int
    risk: str
    state: str
    decider_id: int | None
    decided_at: Timestamp | None
    decision_reason: str | None
    deadline: dt.date | None
    deferred_to_cycle_id: int | None
    deferred_to_cycle_name: str | None
    # On a single exception only.
    context: ContextOut | None = None
    comments: list[CommentOut] | None = None

    @classmethod
    def of(cls, view: ExceptionView, *, full: bool = False) -> ExceptionOut:
        e: FreezeException = view.exception
        return cls(
            id=e.id,
            created_at=e.created_at,
            updated_at=e.updated_at,
            cycle_id=e.cycle_id,
            cycle_name=view.cycle_name,
            story_id=e.story_id,
            story_title=view.story_title,
            project_id=e.project_id,
            project_name=view.project_name,
            freeze=e.freeze,
            requester_id=e.requester_id,
            rationale=e.rationale,
            self_contained=e.self_contained,
            days_to_merge=e.days_to_merge,
            risk=e.risk,
            state=e.state,
            decider_id=e.decider_id,
            decided_at=e.decided_at,
            decision_reason=e.decision_reason,
            deadline=e.deadline,
            deferred_to_cycle_id=e.deferred_to_cycle_id,
            deferred_to_cycle_name=view.deferred_to,
            context=ContextOut(**view.context.__dict__) if full else None,
            comments=[CommentOut.of(c) for c in view.comments] if full else None,
        )


class TranslatableOut(BaseModel):
    story_id: int
    translatable: bool


@router.get("/freeze_exceptions", response_model=list[ExceptionOut])
def list_exceptions(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    cycle_id: Id | None = None,
    project_id: Id | None = None,
    story_id: Id | None = None,
    state: str | None = None,
) -> Any:
    filters = ExceptionFilter(
        cycle_id=cycle_id, project_id=project_id, story_id=story_id, state=state
    )
    with ctx.db.read() as session:
        page = service.list_exceptions(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
        found = service.views(session, actor=ctx.actor, found=page.items)
    set_page_headers(response, page)
    return [ExceptionOut.of(view) for view in found]


def _one(ctx: ContextDep, exception_id: int) -> ExceptionOut:
    with ctx.db.read() as session:
        view = service.get_exception(session, actor=ctx.actor, exception_id=exception_id)
        return ExceptionOut.of(view, full=True)


@router.post("/freeze_exceptions", response_model=ExceptionOut)
def request_exception(ctx: ContextDep, body: ExceptionIn) -> Any:
    with ctx.db.write() as session:
        exception_id = service.request(session, actor=ctx.actor, data=body).id
    return _one(ctx, exception_id)


@router.get("/freeze_exceptions/{exception_id}", response_model=ExceptionOut)
def get_exception(ctx: ContextDep, exception_id: Id) -> Any:
    return _one(ctx, exception_id)


@router.post("/freeze_exceptions/{exception_id}/comments", response_model=CommentOut)
def comment(ctx: ContextDep, exception_id: Id, body: CommentIn) -> Any:
    with ctx.db.write() as session:
        return CommentOut.of(
            service.comment(session, actor=ctx.actor, exception_id=exception_id, data=body)
        )


@router.post("/freeze_exceptions/{exception_id}/decision", response_model=ExceptionOut)
def decide(ctx: ContextDep, exception_id: Id, body: DecisionIn) -> Any:
    with ctx.db.write() as session:
        service.decide(session, actor=ctx.actor, exception_id=exception_id, data=body)
    return _one(ctx, exception_id)


@router.post("/freeze_exceptions/{exception_id}/withdraw", response_model=ExceptionOut)
def withdraw(ctx: ContextDep, exception_id: Id) -> Any:
    with ctx.db.write() as session:
        service.withdraw(session, actor=ctx.actor, exception_id=exception_id)
    return _one(ctx, exception_id)


@router.get("/stories/{story_id}/translatable", response_model=TranslatableOut)
def get_translatable(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.read() as session:
        flagged = freeze.is_translatable(session, actor=ctx.actor, story_id=story_id)
    return TranslatableOut(story_id=story_id, translatable=flagged)


@router.put("/stories/{story_id}/translatable", response_model=TranslatableOut)
def flag_translatable(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.write() as session:
        freeze.flag(session, actor=ctx.actor, story_id=story_id)
    return TranslatableOut(story_id=story_id, translatable=True)


@router.delete("/stories/{story_id}/translatable", response_model=TranslatableOut)
def unflag_translatable(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.write() as session:
        freeze.unflag(session, actor=ctx.actor, story_id=story_id)
    return TranslatableOut(story_id=story_id, translatable=False)
