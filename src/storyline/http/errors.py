"""The one place where errors become HTTP responses.

Shape: {"code", "message", "details"} plus StoryBoard's WSME fields
("faultcode", "faultstring", "debuginfo") so that old clients still show the
message to their users.

Outside /v1 the same translation serves people: the pages register an error
page renderer (`app.state.error_page`, see storyline.web.rendering), and a
request that a browser made for a page gets that page, with the same status
and code, instead of the JSON body. /v1 always answers JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from storyline.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ServiceUnavailable,
    StorylineError,
    TooManyRequests,
)
from storyline.kernel.db import is_unavailable
from storyline.kernel.validation import invalid_input

log = logging.getLogger(__name__)

STATUS = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
}
HTTP_CODES = {
    400: "invalid_input",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


class ErrorOut(BaseModel):
    """The body of every error response (see docs/api.md, "Errors")."""

    code: str
    message: str
    details: Any = None
    faultcode: str
    faultstring: str
    debuginfo: None = None


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# The errors any /v1 operation may answer, documented once for all of them
# (storyline.app includes every router with these). Validation errors are 400,
# never FastAPI's default 422, which `drop_unused_validation_responses` removes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Invalid input: `details` lists each field and why."),
    401: _documented("Not signed in, or an unknown, revoked or expired token."),
    403: _documented("Signed in but not allowed."),
    404: _documented("No such resource (or a private story the caller may not see)."),
    409: _documented("A duplicate, or a concurrent change that could not be retried."),
    412: _documented("`If-Match` names a version that is no longer current: read it again."),
    413: _documented("The request body is larger than the server accepts."),
    503: _documented("The database is not available right now; see Retry-After."),
}


def drop_unused_validation_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Remove the 422 responses FastAPI documents for every operation with
    parameters: request validation errors are answered 400 (see `install`)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "details": details,
        "faultcode": "Client" if status < 500 else "Server",
        "faultstring": message,
        "debuginfo": None,
    }
    headers = {"Retry-After": "5"} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, headers=headers)


# (request, status, code, message) -> an HTML page, or None for JSON.
ErrorPage = Callable[[Request, int, str, str], Response | None]


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/v1" or path.startswith("/v1/")


def respond(
    request: Request, status: int, code: str, message: str, details: Any = None
) -> Response:
    """The error response for `request`: the page renderer's page when it
    makes one (a browser asking for a page), else the JSON body."""
    renderer: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if renderer is not None and not _is_api(request):
        page = renderer(request, status, code, message)
        if page is not None:
            return page
    return error_response(status, code, message, details)


def status_for(error: StorylineError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "header"}]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        return drop_unused_validation_responses(generate_openapi())

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(StorylineError)
    async def _storyline(request: Request, error: StorylineError) -> Response:
        status = status_for(error)
        if status >= 500:
            log.error("%s: %s", error.code, error.message)
        return respond(request, status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        details = [
            {"field": _location(tuple(item.get("loc", ()))), "message": item.get("msg", "")}
            for item in error.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "Invalid input."
        return respond(request, 400, "invalid_input", message, details)

    @app.exception_handler(ValidationError)
    async def _model(request: Request, error: ValidationError) -> Response:
        # An input model built in a handler from what was sent (a page's form
        # fields) rather than through `kernel.validation.validate`: still the
        # sender's mistake, never a 500.
        problem = invalid_input(error)
        return respond(request, 400, problem.code, problem.message, problem.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(error.status_code, "error")
        return respond(request, error.status_code, code, str(error.detail))

    @app.exception_handler(exc.DBAPIError)
    async def _database(request: Request, error: exc.DBAPIError) -> Response:
        if is_unavailable(error):
            return respond(
                request,
                503,
                "service_unavailable",
                "The database is not available right now; try again in a moment.",
            )
        log.exception("database error")
        return respond(request, 500, "internal_error", "An unexpected error happened.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return respond(request, 500, "internal_error", "An unexpected error happened.")
