"""/v1/stories/{id}/links: Storyline's typed links between stories
(blocks, depends_on, duplicates, relates). StoryBoard had none."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from storyline.api.deps import ContextDep, Timestamp
from storyline.kernel.validation import Id
from storyline.tracker import story_links as service
from storyline.tracker.story_links import LinkView, StoryLinkIn

router = APIRouter(prefix="/stories/{story_id}/links", tags=["stories"])


class StoryLinkOut(BaseModel):
    id: int
    created_at: Timestamp
    # As added: `story_id` <kind> `target_story_id`.
    story_id: int
    target_story_id: int
    kind: str
    creator_id: int | None
    # Read from the story in the path: "outgoing" links were added on it.
    direction: str
    # The story at the other end and how the link reads from the path's story.
    other_story_id: int
    other_story_title: str
    label: str

    @classmethod
    def of(cls, view: LinkView) -> StoryLinkOut:
        link = view.link
        return cls(
            id=link.id,
            created_at=link.created_at,
            story_id=link.story_id,
            target_story_id=link.target_story_id,
            kind=link.kind,
            creator_id=link.creator_id,
            direction="outgoing" if view.outgoing else "incoming",
            other_story_id=view.other.id,
            other_story_title=view.other.title,
            label=view.label,
        )


@router.get("", response_model=list[StoryLinkOut])
def list_links(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.read() as session:
        views = service.list_links(session, actor=ctx.actor, story_id=story_id)
        return [StoryLinkOut.of(view) for view in views]


@router.post("", response_model=StoryLinkOut)
def add_link(ctx: ContextDep, story_id: Id, body: StoryLinkIn) -> Any:
    with ctx.db.write() as session:
        view = service.add_link(session, actor=ctx.actor, story_id=story_id, data=body)
        return StoryLinkOut.of(view)


@router.delete("/{link_id}", status_code=204)
def delete_link(ctx: ContextDep, story_id: Id, link_id: Id) -> Response:
    with ctx.db.write() as session:
        service.remove_link(session, actor=ctx.actor, story_id=story_id, link_id=link_id)
    return Response(status_code=204)
