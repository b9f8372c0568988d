"""What every piece of input must be, in one place.

Request bodies are validated by the API layer, but a service that merges a
partial update into the stored object validates the result itself; its errors
must come out as `InvalidInput` with field names, like every other bad input,
and not as a pydantic exception that no edge translates.

Besides the models' own rules, three things hold for all input, whichever
route or page it comes through (docs/api.md, "Limits"):

- an id is a whole number in 1..2**31-1 (`Id` in signatures and models,
  `parse_id` for ids typed into a form field or a path that also takes names);
- text is at most `NAME_LENGTH` (titles, names) or `TEXT_LENGTH`
  (descriptions, comments) characters (`Name`, `LongText`);
- no string holds a NUL or a lone UTF-16 surrogate (`text_problem`,
  `find_bad_text`), which no column can store: PostgreSQL refuses NUL, and a
  surrogate cannot be encoded to UTF-8 for any database.
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

ID_RANGE = f"must be a whole number between 1 and {MAX_INT}"

# Text limits (the table in docs/api.md, "Limits"). Titles and names follow
# StoryBoard's String(255) columns. Long text (descriptions, comments, task
# links) gets 65,535 characters: what StoryBoard's MySQL TEXT columns held
# at most, ample for prose and any review-system summary, and small enough
# that a page of stories, which every anonymous visitor may list with its
# descriptions, stays a reasonable size. (StoryBoard stored comments as
# MEDIUMTEXT, which let one request store a whole CI log.)
NAME_LENGTH = 255
TEXT_LENGTH = 65_535

Name = Annotated[str, Field(max_length=NAME_LENGTH)]
LongText = Annotated[str, Field(max_length=TEXT_LENGTH)]


def is_number(text: str) -> bool:
    """Whether `text` is written as a whole number: ASCII digits only
    (`str.isdigit` also accepts "²" and other digits `int` refuses)."""
    return text.isascii() and text.isdigit()


def parse_id(text: str, field: str) -> int:
    """The id written in `text` (a form field, or a path that takes an id or
    a name), or a 400 naming `field`: a number no row can have is an input
    mistake, not a missing row, and must not reach a query."""
    digits = text.strip().lstrip("0")
    # The length test first: `int` refuses strings of thousands of digits.
    if not is_number(digits) or len(digits) > len(str(MAX_INT)) or int(digits) > MAX_INT:
        raise InvalidInput.field(field, ID_RANGE)
    return int(digits)


def id_or_name(ref: str | int, field: str = "id") -> int | str:
    """A reference by id or by name: digits are an id (names are never all
    digits, see the services' name checks), anything else a name."""
    if isinstance(ref, int):
        return parse_id(str(ref), field)
    return parse_id(ref, field) if is_number(ref) else ref


def text_problem(value: str) -> str | None:
    """Why no column can store `value`, or None when it is fine."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Only a lone surrogate (JSON "\\ud800") fails to encode.
        return "must not contain a lone UTF-16 surrogate (malformed Unicode)"
    return None


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The dotted path of the first string (or key) in a decoded JSON value
    that no column can store, and why; None when there is none."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (path or "body", problem) if problem is not None else None
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            problem = text_problem(str(key))
            if problem is not None:
                return field, problem
            found = find_bad_text(item, field)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_bad_text(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def check_text(field: str, value: Any) -> None:
    """Refuse `value` (a string, or a decoded JSON document) with a 400
    naming the field if it holds text that no column can store."""
    found = find_bad_text(value, field)
    if found is not None:
        raise bad_text(*found)


def bad_text(field: str, problem: str) -> InvalidInput:
    # The field name is echoed in the error, which must itself be
    # encodable: a name can be the very key that holds the bad character.
    printable = field.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")
    return InvalidInput.field(printable, problem)


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
