"""Input that no column can hold, refused at the edge for every route and page.

`check_input` guards every /v1 route (through `api.deps.check_api_request`)
and every page (`storyline.web.mount`), so that no handler has to remember
it. Before the request reaches a query, it refuses with a 400 naming the
field:

- an integer path or query parameter outside an `integer` column's range
  (the database would fail with "integer out of range", or SQLite's driver
  overflow, rather than find no row); ids are narrower still, 1..2**31-1,
  which their own `kernel.validation.Id` type says;
- a NUL character or a lone UTF-16 surrogate in any string: path, query
  (names and values), form fields and JSON bodies (keys and values).

The rules themselves live in `kernel.validation`; this module only finds
every string of a request and hands it over.
"""

from __future__ import annotations

import json
import types
import typing
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from storyline.errors import InvalidInput
from storyline.kernel.validation import MAX_INT, MIN_INT, bad_text, check_text, find_bad_text

if TYPE_CHECKING:
    from fastapi._compat import ModelField

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _is_integer(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in {typing.Union, types.UnionType, list, Annotated}:
        return any(_is_integer(arg) for arg in typing.get_args(annotation))
    return False


def _integer_params(route: APIRoute) -> dict[tuple[str, str], ModelField]:
    """`route`'s integer path and query parameters, by (where, name)."""
    cached: dict[tuple[str, str], ModelField] | None = getattr(route, "_storyline_integers", None)
    if cached is None:
        cached = {}
        stack: list[Dependant] = [route.dependant]
        while stack:
            dependant = stack.pop()
            for where, params in (
                ("path", dependant.path_params),
                ("query", dependant.query_params),
            ):
                for param in params:
                    if _is_integer(param.field_info.annotation):
                        cached[(where, param.alias)] = param
            stack.extend(dependant.dependencies)
        route._storyline_integers = cached  # type: ignore[attr-defined]
    return cached


def _check_integer(param: ModelField, where: str, raw: str) -> None:
    try:
        value = int(raw.strip())
    except ValueError:
        return  # not a number at all: the parameter's own validation says so
    if MIN_INT <= value <= MAX_INT:
        return
    # A parameter with bounds of its own (an `Id`) refuses the value itself,
    # with its own range in the message; only plain integers need this one.
    if all(param.validate(sample, loc=(where,))[1] for sample in (raw, [raw])):
        return
    raise InvalidInput.field(param.alias, f"must be a whole number between {MIN_INT} and {MAX_INT}")


def _may_hold_bad_text(body: bytes) -> bool:
    # JSON can only carry a NUL or a lone surrogate as a \u escape, or as
    # bytes that are not UTF-8 (the standard parser, which FastAPI uses,
    # lets encoded surrogates through). Most bodies are neither: they are
    # not decoded a second time.
    if b"\\u" in body:
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


async def check_input(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    integers = _integer_params(route)
    for name, raw in request.path_params.items():
        check_text(name, str(raw))
        param = integers.get(("path", name))
        if param is not None:
            _check_integer(param, "path", str(raw))
    for name, raw in request.query_params.multi_items():
        check_text(name, name)
        check_text(name, raw)
        param = integers.get(("query", name))
        if param is not None:
            _check_integer(param, "query", raw)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(FORM_TYPES):
        # Parsed once: FastAPI and the handlers get the same form back.
        form = await request.form()
        for name, value in form.multi_items():
            check_text(name, name)
            if isinstance(value, str):
                check_text(name, value)
        return
    body = await request.body()
    if body and _may_hold_bad_text(body):
        try:
            document = json.loads(body)
        except ValueError:
            return  # FastAPI's own parsing answers malformed JSON
        found = find_bad_text(document)
        if found is not None:
            raise bad_text(*found)
