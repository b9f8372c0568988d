"""Answers shaped for python-storyboardclient 0.2.0 where it maps one
resource's answer onto another resource's class.

The client maps POST …/comments (a TimeLineEvent) onto a Comment and
PUT …/tags (a Story) onto a Tag. While copying the answer's fields, the first
field its class doesn't declare makes it lazily re-read the object as
GET …/comments/{id} or …/tags/{id} — with the *event's* or the *story's* id,
which names some unrelated comment or tag, or nothing (404, and the client
raises although the write succeeded). When `id` comes last in the JSON
object, that re-read happens before the client knows an id: it fetches the
list, fails to read it as one object with an AttributeError, which its
`hasattr()` check swallows, and carries on with the answer it has. JSON
object order means nothing to any other client.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel


def id_last(model: BaseModel) -> JSONResponse:
    payload: dict[str, Any] = model.model_dump(mode="json")
    payload["id"] = payload.pop("id")
    return JSONResponse(payload)
