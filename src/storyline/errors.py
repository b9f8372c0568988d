"""The error tree every layer raises.

Each error has a stable `code` that clients can match on, a message a person
can act on, and optional structured `details`. Nothing here knows about HTTP:
the API translates these in one place (`storyline.http.errors`).
"""

from __future__ import annotations

from typing import Any


class StorylineError(Exception):
    code = "error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class ConfigurationError(StorylineError):
    code = "configuration_error"


class InvalidInput(StorylineError):
    """The request is malformed; `details` lists `{field, message}` entries."""

    code = "invalid_input"

    @classmethod
    def field(cls, name: str, message: str) -> InvalidInput:
        return cls(f"{name}: {message}", details=[{"field": name, "message": message}])


class NotAuthenticated(StorylineError):
    code = "not_authenticated"


class PermissionDenied(StorylineError):
    code = "forbidden"


class NotFound(StorylineError):
    code = "not_found"

    @classmethod
    def of(cls, kind: str, key: object) -> NotFound:
        return cls(f"{kind} {key} not found", details={"resource": kind, "id": str(key)})


class Conflict(StorylineError):
    code = "conflict"


class PreconditionFailed(StorylineError):
    """The resource changed since the client read it (a stale `If-Match`, or
    a form posted with the version it was rendered from); `details` may say
    what changed."""

    code = "precondition_failed"


class TooManyRequests(StorylineError):
    """Throttled: too many failed attempts in a short time; `details` may say when to retry."""

    code = "too_many_requests"


class ServiceUnavailable(StorylineError):
    """The database (or another backing service) cannot be reached right now."""

    code = "service_unavailable"


class SchemaMismatch(StorylineError):
    """The database's schema revision is not the one this version of Storyline
    needs; `details` holds both revisions. Raised before a server starts."""

    code = "schema_mismatch"
