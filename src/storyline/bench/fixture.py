"""The ids the requests use, picked from the loaded data, and the benchmark's
own user with its token and web session."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.config import Settings
from storyline.tracker.models import Project, Story, Task


@dataclass
class Fixture:
    """What the requests need: ids picked from the loaded data."""

    token: str
    user_id: int
    big_project: int
    big_project_name: str
    # The secret of a web session of the benchmark's user (its cookie).
    session_cookie: str
    story_ids: list[int]
    write_story: int
    shared_tasks: list[int]
    stories: int


def make_fixture(url: str, seed: int) -> Fixture:
    """Picks ids through SQLAlchemy and creates the benchmark's user and token."""
    from storyline.accounts import audit, web_sessions
    from storyline.bootstrap import build

    container = build(Settings(database_url=url))
    try:
        with container.db.read() as session:
            stories = session.scalar(select(func.count()).select_from(Story)) or 0
            big_project = session.execute(
                select(Task.project_id, func.count())
                .group_by(Task.project_id)
                .order_by(func.count().desc(), Task.project_id)
                .limit(1)
            ).first()
            if big_project is None:
                big = session.scalar(select(Project.id).order_by(Project.id).limit(1))
                if big is None:
                    raise RuntimeError("the benchmark database holds no projects")
                project_id = big
            else:
                project_id = big_project[0]
            public = list(
                session.scalars(select(Story.id).where(Story.private.is_(False)).order_by(Story.id))
            )
            # Stories with several tasks, for the concurrent writers to share.
            shared_stories = list(
                session.scalars(
                    select(Task.story_id)
                    .join(Story, Story.id == Task.story_id)
                    .where(Story.private.is_(False))
                    .group_by(Task.story_id)
                    .having(func.count() >= 3)
                    .order_by(Task.story_id)
                    .limit(2)
                )
            )
            shared_tasks = list(
                session.scalars(
                    select(Task.id).where(Task.story_id.in_(shared_stories)).order_by(Task.id)
                )
            )
        step = max(1, len(public) // 500)
        sample = public[(seed % step) :: step][:500]
        with container.db.write() as session:
            user, secret = _bench_user(session, name="Benchmark Client", prefix="bench")
            user_id = user.id
            cookie = web_sessions.open_session(
                session,
                settings=container.settings,
                user=user,
                method="local",
                client=audit.NO_CLIENT,
            )
        with container.db.read() as session:
            project_name = session.scalar(select(Project.name).where(Project.id == project_id))
        assert secret is not None
        return Fixture(
            token=secret,
            user_id=user_id,
            big_project=project_id,
            big_project_name=str(project_name),
            session_cookie=cookie,
            story_ids=sample or [1],
            write_story=sample[len(sample) // 2] if sample else 1,
            shared_tasks=shared_tasks,
            stories=stories,
        )
    finally:
        container.db.dispose()


def superuser_token(url: str) -> str:
    """A new administrator of the database at `url` and its API token, made
    through the account services: creating projects needs a superuser."""
    from storyline.bootstrap import build

    container = build(Settings(database_url=url))
    try:
        with container.db.write() as session:
            _user, secret = _bench_user(
                session, name="Benchmark Administrator", prefix="bench-admin", superuser=True
            )
        assert secret is not None
        return secret
    finally:
        container.db.dispose()


def _bench_user(
    session: Session, *, name: str, prefix: str, superuser: bool = False
) -> tuple[User, str | None]:
    """A user of the benchmark's own, with an API token, through the account
    services; the address is new however many runs used the database."""
    from storyline.accounts import users

    n = session.scalar(select(func.count()).select_from(User)) or 0
    return users.admin_create_user(
        session,
        full_name=name,
        email=f"{prefix}-{n + 1}-{os.getpid()}@example.org",
        superuser=superuser,
        with_token=True,
    )
