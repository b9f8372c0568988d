"""The compiled search queries against a real database: any input either is
refused with InvalidInput or runs; and PostgreSQL answers from the indexes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from storyline.accounts import users
from storyline.bootstrap import Container
from storyline.errors import InvalidInput
from storyline.kernel.access import Actor
from storyline.kernel.paging import PageRequest
from storyline.kernel.search import parse
from storyline.tracker import search
from tests.factories import Factory, TestUser

TARGETS = [
    search.STORIES,
    search.TASKS,
    search.PROJECTS,
    users.USERS,
    users.USER_NAMES,
    search.COMMENTS,
]

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
        stmt = (
            select(func.count())
            .select_from(target.id_column.class_)
            .where(target.matches(container.db.dialect, parse(q)))
        )
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
        (search.STORIES, "ix_stories_search_fts"),
        (search.TASKS, "ix_tasks_search_fts"),
        (search.PROJECTS, "ix_projects_search_fts"),
        (users.USERS, "ix_users_search_fts"),
        (users.USER_NAMES, "ix_users_name_search_fts"),
        (search.COMMENTS, "ix_comments_search_fts"),
    ],
)
def test_postgresql_uses_the_gin_indexes(
    container: Container, target: search.Searchable, index: str
) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("the GIN indexes are PostgreSQL's")
    stmt = select(target.id_column).where(target.matches("postgresql", parse("frob")))
    assert index in _plan(container, stmt)


def _comment(client: TestClient, user: TestUser, story_id: int, content: str) -> None:
    response = client.post(
        f"/v1/stories/{story_id}/comments", json={"content": content}, headers=user.headers
    )
    assert response.status_code == 200, response.text


def _comment_ids(container: Container, actor: Actor, q: str, **kwargs: Any) -> list[int]:
    with container.db.read() as session:
        page = search.search_comments(
            session, actor=actor, q=q, page=PageRequest(limit=10), **kwargs
        )
        return [comment.story_id for comment in page.items]


def test_comment_search_respects_the_visibility_gate(
    container: Container, client: TestClient, factory: Factory
) -> None:
    alice, stranger = factory.user(), factory.user()
    public = factory.story(alice, title="Public")
    private = factory.story(alice, title="Private", private=True)
    other = factory.story(alice, title="Other")
    _comment(client, alice, public["id"], "The frobnicator fails again")
    _comment(client, alice, private["id"], "Frobnicator key leaked")
    _comment(client, alice, other["id"], "Unrelated")
    as_alice = Actor(user_id=alice.id, can_write=True)
    assert _comment_ids(container, Actor(), "frob") == [public["id"]]
    assert _comment_ids(container, Actor(user_id=stranger.id), "frob") == [public["id"]]
    assert _comment_ids(container, as_alice, "frob") == [public["id"], private["id"]]
    assert _comment_ids(container, as_alice, "frob", story_id=private["id"]) == [private["id"]]
    assert _comment_ids(container, as_alice, "frob -leaked") == [public["id"]]


def test_indexes_follow_cascading_deletes(
    container: Container, client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    project = factory.project(admin, description="frobnicator home")
    story = factory.story(admin, title="Frobnicator story")
    factory.task(admin, story_id=story["id"], project_id=project["id"], title="Frobnicate it")
    _comment(client, admin, story["id"], "frobnicator comment")
    assert client.delete(f"/v1/stories/{story['id']}", headers=admin.headers).status_code == 204
    for target in (search.STORIES, search.TASKS, search.COMMENTS):
        assert _count(container, target, "frob") == 0
    if container.db.dialect == "sqlite":
        # FTS5 compares its index with the content tables.
        with container.db.engine.begin() as conn:
            for table in ("stories", "tasks", "comments", "projects", "users"):
                conn.exec_driver_sql(
                    f"INSERT INTO {table}_fts({table}_fts) VALUES ('integrity-check')"
                )
