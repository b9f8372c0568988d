"""Validating input models inside services.

Request bodies are validated by the API layer, but a service that merges a
partial update into the stored object validates the result itself; its errors
must come out as `InvalidInput` with field names, like every other bad input,
and not as a pydantic exception that no edge translates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from storyline.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        raise invalid_input(error) from None


def invalid_input(error: ValidationError) -> InvalidInput:
    details = [
        {
            "field": ".".join(str(part) for part in item["loc"]) or "body",
            "message": item["msg"],
        }
        for item in error.errors()
    ]
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "Invalid input."
    return InvalidInput(message, details=details)


# The range of an `integer` column on PostgreSQL, which every id is. A number
# outside it names nothing, and the database refuses to compare with it
# ("integer out of range") rather than finding no row, so input is checked
# against it before it reaches a query.
MIN_INT = -(2**31)
MAX_INT = 2**31 - 1

# An id in an input model: a positive number an id column can hold.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
