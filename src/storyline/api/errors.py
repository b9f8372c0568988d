"""The one place where errors become HTTP responses.

Shape: {"code", "message", "details"} plus StoryBoard's WSME fields
("faultcode", "faultstring", "debuginfo") so that old clients still show the
message to their users.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from storyline.db.engine import is_unavailable
from storyline.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    StorylineError,
    TooManyRequests,
)

log = logging.getLogger(__name__)

STATUS = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
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
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


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


def status_for(error: StorylineError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "header"}]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(StorylineError)
    async def _storyline(_request: Request, error: StorylineError) -> JSONResponse:
        status = status_for(error)
        if status >= 500:
            log.error("%s: %s", error.code, error.message)
        return error_response(status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"field": _location(tuple(item.get("loc", ()))), "message": item.get("msg", "")}
            for item in error.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "Invalid input."
        return error_response(400, "invalid_input", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(error.status_code, "error")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(exc.DBAPIError)
    async def _database(_request: Request, error: exc.DBAPIError) -> JSONResponse:
        if is_unavailable(error):
            return error_response(
                503,
                "service_unavailable",
                "The database is not available right now; try again in a moment.",
            )
        log.exception("database error")
        return error_response(500, "internal_error", "An unexpected error happened.")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=error)
        return error_response(500, "internal_error", "An unexpected error happened.")
