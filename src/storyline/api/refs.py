"""Ids of members added to or removed from a collection.

StoryBoard took the id of a team's member (a user, a project) from the query
string or a JSON body; python-storyboardclient puts it in the path. Every
form is accepted, in that order of preference after the path.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from storyline.errors import InvalidInput


class MemberRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: int | None = None
    project_id: int | None = None


def member_id(field: str, query_id: int | None, body: MemberRef | None) -> int:
    for candidate in (query_id, getattr(body, field, None) if body else None):
        if candidate is not None:
            return candidate
    raise InvalidInput.field(field, "is required (in the path, the query or the body)")
