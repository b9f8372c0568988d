"""/v1/tags and /v1/stories/{id}/tags

StoryBoard's quirk is kept for compatibility: `PUT /v1/tags/{id}` and
`DELETE /v1/tags/{id}` take a *story* id and a list of tag names, exactly like
`/v1/stories/{id}/tags`, while `GET /v1/tags/{id}` takes a tag id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.api.compat import id_last
from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel.validation import Id
from storyline.tracker import tags as service
from storyline.tracker.api.stories import StoryOut, check_story
from storyline.tracker.models import Story, Tag
from storyline.tracker.stories import load_story_views
from storyline.tracker.tags import TagFilter, TagIn

router = APIRouter(tags=["tags"])

TagNames = Annotated[list[str] | None, Body(description="Tag names.")]
TagQuery = Annotated[
    list[str] | None, Query(description="Tag names (StoryBoard also took them here).")
]


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    # How many stories (that the reader can see) carry the tag.
    popularity: int | None = None


def _tags_out(session: Session, ctx: Context, tags: Sequence[Tag]) -> list[TagOut]:
    counts = service.popularity(session, actor=ctx.actor, tag_ids=[tag.id for tag in tags])
    return [
        TagOut.model_validate(tag).model_copy(update={"popularity": counts.get(tag.id, 0)})
        for tag in tags
    ]


def _story_out(session: Session, story: Story) -> StoryOut:
    return StoryOut.of(load_story_views(session, [story])[0])


@router.get("/tags", response_model=list[TagOut])
def list_tags(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    story_id: Id | None = None,
    name: str | None = None,
) -> Any:
    filters = TagFilter(story_id=story_id, name=name)
    with ctx.db.read() as session:
        page = service.list_tags(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
        items = _tags_out(session, ctx, page.items)
    set_page_headers(response, page)
    return items


@router.post("/tags", response_model=TagOut)
def create_tag(
    ctx: ContextDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    tag_name: str | None = None,
) -> Any:
    data = TagIn.from_body({"tag_name": tag_name} if tag_name is not None else body or {})
    with ctx.db.write() as session:
        tag = service.create_tag(session, actor=ctx.actor, data=data)
        return _tags_out(session, ctx, [tag])[0]


@router.get("/tags/{tag_id:int}", response_model=TagOut)
def get_tag(ctx: ContextDep, tag_id: Id) -> Any:
    with ctx.db.read() as session:
        tag = service.get_tag(session, tag_id=tag_id, actor=ctx.actor)
        return _tags_out(session, ctx, [tag])[0]


def _add(ctx: Context, story_id: int, names: list[str], if_match: IfMatch) -> Response:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        story = service.add_story_tags(session, actor=ctx.actor, story_id=story_id, names=names)
        return id_last(_story_out(session, story))


def _remove(ctx: Context, story_id: int, names: list[str], if_match: IfMatch) -> Response:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        service.remove_story_tags(session, actor=ctx.actor, story_id=story_id, names=names)
    return Response(status_code=204)


@router.put("/tags/{story_id:int}", response_model=StoryOut)
def add_tags_by_story_id(
    ctx: ContextDep,
    story_id: Id,
    if_match: IfMatchDep,
    body: TagNames = None,
    tags: TagQuery = None,
) -> Any:
    return _add(ctx, story_id, [*(tags or ()), *(body or ())], if_match)


@router.delete("/tags/{story_id:int}", status_code=204)
def remove_tags_by_story_id(
    ctx: ContextDep,
    story_id: Id,
    if_match: IfMatchDep,
    body: TagNames = None,
    tags: TagQuery = None,
) -> Response:
    return _remove(ctx, story_id, [*(tags or ()), *(body or ())], if_match)


@router.get("/stories/{story_id:int}/tags", response_model=list[TagOut])
def list_story_tags(ctx: ContextDep, paging: PageDep, response: Response, story_id: Id) -> Any:
    return list_tags(ctx, paging, response, story_id=story_id)


@router.get("/stories/{story_id:int}/tags/{tag_id:int}", response_model=TagOut)
def get_story_tag(ctx: ContextDep, story_id: Id, tag_id: Id) -> Any:
    # StoryBoard's nested controller answered any tag here, the story id
    # being a placeholder; that made tags of hidden stories readable, so the
    # story must be visible and carry the tag.
    with ctx.db.read() as session:
        tag = service.get_tag(session, tag_id=tag_id, actor=ctx.actor, story_id=story_id)
        return _tags_out(session, ctx, [tag])[0]


@router.put("/stories/{story_id:int}/tags", response_model=StoryOut)
def add_story_tags(
    ctx: ContextDep,
    story_id: Id,
    if_match: IfMatchDep,
    body: TagNames = None,
    tags: TagQuery = None,
) -> Any:
    return _add(ctx, story_id, [*(tags or ()), *(body or ())], if_match)


@router.delete("/stories/{story_id:int}/tags", status_code=204)
def remove_story_tags(
    ctx: ContextDep,
    story_id: Id,
    if_match: IfMatchDep,
    body: TagNames = None,
    tags: TagQuery = None,
) -> Response:
    return _remove(ctx, story_id, [*(tags or ()), *(body or ())], if_match)


__all__ = ["TagOut", "router"]
