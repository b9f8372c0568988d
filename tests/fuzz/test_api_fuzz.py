"""Property-based fuzzing of every /v1 operation with Schemathesis.

The invariant: bad input gets a clear error. Whatever the fuzzer sends, the
API answers no 5xx (the documented 503 aside), only status codes, content
types and bodies its own OpenAPI document declares, and every error in the
one shape of docs/api.md ("Errors"). Each operation is called anonymously
and as an administrator, so both the refusals and the code behind them are
exercised; generated ids are often those of seeded rows, so bodies reach the
services and the database rather than stopping at "not found".

The number of examples is small and the generation derandomized: the run is
the same every time and stays within about a minute on a two-core machine.
Set STORYLINE_FUZZ_EXAMPLES to search harder locally. The module runs on
SQLite, and on PostgreSQL when STORYLINE_TEST_DATABASE_URL is set
(tests/conftest.py); `test_api_sequences` fuzzes sequences of calls.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext
from schemathesis.core.transport import Response
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from storyline.app import create_app
from storyline.bootstrap import build
from storyline.config import Settings
from tests.factories import TestUser
from tests.fuzz.conftest import World

EXAMPLES = int(os.environ.get("STORYLINE_FUZZ_EXAMPLES", "12"))
# Ids of rows that exist in every seeded table (each table starts at 1).
SEEDED_IDS = (1, 2, 3)
ERROR_FIELDS = {"code", "message", "details", "faultcode", "faultstring", "debuginfo"}


def _document() -> dict[str, Any]:
    # The document does not depend on the database: build it from an app
    # whose database is never opened, at collection time, so that each
    # operation is a test of its own (and xdist can spread them).
    with tempfile.TemporaryDirectory() as folder:
        container = build(Settings(database_url="sqlite://", data_dir=Path(folder)))
        document: dict[str, Any] = create_app(container).openapi()
        container.db.dispose()
    return document


schema = schemathesis.openapi.from_dict(_document())
schema.config.phases.coverage.enabled = os.environ.get("FUZZ_COVERAGE") == "1"


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    # Random integers almost never name an existing row; often use a seeded
    # id instead, so that the request gets past the lookup to the code behind.
    return st.fixed_dictionaries(
        {
            name: st.sampled_from([value, *SEEDED_IDS])
            if isinstance(value, int) and not isinstance(value, bool)
            else st.just(value)
            for name, value in (path_parameters or {}).items()
        }
    )


@dataclass(frozen=True)
class Seeded:
    """The app under test plus the administrator whose token signs requests."""

    app: FastAPI
    admin: TestUser
    # One in-process client for every call: a client per call costs more
    # than most requests.
    session: Any


@pytest.fixture(scope="module")
def seeded(world: World) -> Iterator[Seeded]:
    with asgi.get_client(world.app) as session:
        yield Seeded(app=world.app, admin=world.admin, session=session)


def error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every error answers the stable `code`/`message` shape of docs/api.md."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    missing = ERROR_FIELDS - set(body)
    assert not missing, f"error body lacks {sorted(missing)}: {body!r}"
    assert isinstance(body["code"], str), body
    assert body["code"], body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    return True


def no_server_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """No 5xx: 503 is the documented answer to a database outage, which
    fuzzing an in-process app against a healthy database never causes."""
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: "
        f"{response.content[:500]!r}"
    )
    return True


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_requests_get_clear_answers(case: Case, seeded: Seeded) -> None:
    # Each generated request is sent anonymously and as an administrator:
    # generating it costs more than sending it twice.
    case.call_and_validate(app=seeded.app, session=seeded.session, checks=CHECKS)
    case.call_and_validate(
        app=seeded.app, session=seeded.session, headers=seeded.admin.headers, checks=CHECKS
    )
