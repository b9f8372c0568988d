"""The compiled search queries against a real database: any input either is
refused with InvalidInput or runs; and PostgreSQL answers from the indexes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from storyline.bootstrap import Container
from storyline.errors import InvalidInput
from storyline.services import search
from storyline.services.search_query import parse
from tests.factories import Factory

TARGETS = [search.PROJECTS, search.USERS, search.USER_NAMES, search.COMMENTS]

# Characters with a meaning to one of the query syntaxes, plus a few that the
# tokenizers treat differently.
SYNTAX = st.text(
    alphabet=st.sampled_from(
        list("ab xyZ\"'-+*():!&|<>^{}\\~@./_NOTAR\u00e9\u2019\u00b2\U0001f600")
    ),
    max_size=40,
)


def _count(container: Container, target: search.Searchable, q: str) -> int:
    with container.db.read() as session:
        stmt = select(func.count()).where(target.matches(container.db.dialect, parse(q)))
        return session.scalar(stmt) or 0


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=st.one_of(SYNTAX, st.text(max_size=60)))
@example(q='"NEAR(a b)" -"x" AND*')
@example(q="a:* & !b")
@example(q="'; DROP TABLE projects; --")
def test_any_query_is_refused_or_runs(container: Container, factory: Factory, q: str) -> None:
    for target in TARGETS:
        try:
            count = _count(container, target, q)
        except InvalidInput:
            return
        assert count >= 0


def test_matches_find_what_the_indexes_hold(container: Container, factory: Factory) -> None:
    admin = factory.admin()
    factory.project(admin, name="openstack/nova", description="Compute: the frobnicator")
    assert _count(container, search.PROJECTS, "frob") == 1
    assert _count(container, search.PROJECTS, "nova") == 1
    assert _count(container, search.PROJECTS, "openstack/no") == 1
    assert _count(container, search.PROJECTS, "FROBNICATOR") == 1
    assert _count(container, search.PROJECTS, "robnicator") == 0
    assert _count(container, search.PROJECTS, '"compute the"') == 1
    assert _count(container, search.PROJECTS, '"the compute"') == 0


def _plan(container: Container, stmt: Any) -> str:
    with container.db.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        compiled = stmt.compile(conn)
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars()
        return "\n".join(rows)


@pytest.mark.parametrize(
    ("target", "index"),
    [
        (search.PROJECTS, "ix_projects_fts"),
        (search.USERS, "ix_users_fts"),
        (search.USER_NAMES, "ix_users_full_name_fts"),
        (search.COMMENTS, "ix_comments_fts"),
    ],
)
def test_postgresql_uses_the_expression_indexes(
    container: Container, target: search.Searchable, index: str
) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("expression indexes are PostgreSQL's")
    stmt = select(target.id_column).where(target.matches("postgresql", parse("frob")))
    assert index in _plan(container, stmt)
