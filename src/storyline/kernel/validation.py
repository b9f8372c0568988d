"""Validating input models inside services.

Request bodies are validated by the API layer, but a service that merges a
partial update into the stored object validates the result itself; its errors
must come out as `InvalidInput` with field names, like every other bad input,
and not as a pydantic exception that no edge translates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, ValidationError
from pydantic_core import PydanticCustomError

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


# Stored URLs -----------------------------------------------------------------
#
# A link built from stored data goes to the web (or, in Markdown, to an email
# address), never to a scheme that runs in our origin or passes for our
# content (`javascript:`, `vbscript:`, `data:`, `file:` ...). `url_allowed` is
# the one check: `WebUrl` refuses other URLs on write, and the pages' `link`
# filter and the Markdown sanitizer apply it again on render, so rows written
# before the check existed are safe too.

WEB_SCHEMES = frozenset({"http", "https"})
LINK_SCHEMES = WEB_SCHEMES | {"mailto"}
# Browsers drop tabs and newlines anywhere in a URL, and C0 controls and
# spaces at its ends, before they read the scheme ("java\tscript:" runs).
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")


def url_scheme(url: str) -> str | None:
    """The scheme a browser reads in `url`, lower case; None for a relative URL."""
    match = _SCHEME.match(_URL_IGNORED.sub("", url).strip(_URL_EDGES))
    return match.group(1).lower() if match else None


def url_allowed(
    url: str | None, *, schemes: frozenset[str] = WEB_SCHEMES, relative: bool = False
) -> bool:
    """Whether a link to `url` may be rendered: one of `schemes` (a web URL
    with a host), or, when `relative`, a path on this server."""
    if not url:
        return False
    scheme = url_scheme(url)
    if scheme is None:
        return relative
    if scheme not in schemes:
        return False
    if scheme not in WEB_SCHEMES:
        return True
    try:
        return bool(urlsplit(_URL_IGNORED.sub("", url).strip(_URL_EDGES)).hostname)
    except ValueError:  # an unbalanced [ in the host, say
        return False


def _web_url(value: str) -> str:
    # Stored as typed: no control characters or spaces to hide a scheme in.
    if not url_allowed(value) or any(c in _URL_EDGES for c in value):
        raise PydanticCustomError("url", "must be an http:// or https:// URL")
    return value


# An http(s) URL in an input model; the error names the field.
WebUrl = Annotated[str, AfterValidator(_web_url)]
