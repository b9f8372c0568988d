"""Stateful fuzzing of the /v1 API with Schemathesis: sequences of calls.

Sequences follow the links Schemathesis infers from the OpenAPI document
(the id a POST answers, given to the operations that take it), so that
requests reach rows the sequence itself made and changed; every response
gets the checks of `test_api_fuzz`. Each sequence starts from the same
seeded database: Hypothesis replays sequences, and one that found the
database in another state would not take the same steps.

Few sequences, derandomized: the same run every time, in seconds. Set
STORYLINE_FUZZ_SEQUENCES to search harder locally.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from schemathesis import Case
from schemathesis.core.transport import Response
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.fuzz.conftest import World
from tests.fuzz.test_api_fuzz import CHECKS, FUZZ_SETTINGS, Seeded, schema, seeded

__all__ = ["seeded"]  # the fixture, shared with the operation-by-operation fuzzing


Workflow = schema.as_state_machine()
STATEFUL_SETTINGS = settings(
    FUZZ_SETTINGS,
    max_examples=int(os.environ.get("STORYLINE_FUZZ_SEQUENCES", "15")),
    stateful_step_count=6,
)


@pytest.fixture(scope="module")
def restore(world: World, fuzz_database: str) -> Iterator[Callable[[], None]]:
    """A function that puts the seeded database back as it is now, before
    any sequence ran (this module's database is its own)."""
    db = world.container.db
    db.dispose()
    url = make_url(fuzz_database)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        snapshot = path.with_suffix(".seeded")
        shutil.copyfile(path, snapshot)

        def restore_sqlite() -> None:
            db.dispose()
            shutil.copyfile(snapshot, path)

        yield restore_sqlite
        return
    name = f"{url.database}_seeded"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def clone(source: str, target: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))

    clone(str(url.database), name)

    def restore_postgresql() -> None:
        db.dispose()
        clone(name, str(url.database))

    yield restore_postgresql
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_call_sequences_get_clear_answers(seeded: Seeded, restore: Callable[[], None]) -> None:
    class Sequences(Workflow):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            restore()

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            # As an administrator: anonymous calls make nothing to chain.
            return {"app": seeded.app, "session": seeded.session, "headers": seeded.admin.headers}

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    Sequences.run(settings=STATEFUL_SETTINGS)
