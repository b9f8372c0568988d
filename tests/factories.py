"""Factories: set up state through the services, the way users would."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from storyline.accounts import users
from storyline.bootstrap import Container
from storyline.kernel.access import Actor
from storyline.releases import cycles

_counter = itertools.count(1)


@dataclass(frozen=True)
class TestUser:
    __test__ = False

    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    __test__ = False

    def __init__(self, container: Container, client: TestClient) -> None:
        self.container = container
        self.client = client

    def user(self, *, superuser: bool = False, name: str | None = None) -> TestUser:
        n = next(_counter)
        email = f"user{n}@example.org"
        with self.container.db.write() as session:
            user, secret = users.admin_create_user(
                session,
                full_name=name or f"User {n}",
                email=email,
                superuser=superuser,
                with_token=True,
            )
            assert secret is not None
            return TestUser(id=user.id, email=email, token=secret)

    def users(self, count: int) -> list[TestUser]:
        """`count` users with tokens in one transaction: an electorate of
        hundreds costs one commit, not hundreds."""
        made = []
        with self.container.db.write() as session:
            for _ in range(count):
                n = next(_counter)
                email = f"user{n}@example.org"
                user, secret = users.admin_create_user(
                    session, full_name=f"User {n}", email=email, with_token=True
                )
                assert secret is not None
                made.append(TestUser(id=user.id, email=email, token=secret))
        return made

    def admin(self) -> TestUser:
        return self.user(superuser=True, name="Admin")

    def project(self, admin: TestUser, name: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"name": name or f"org/project-{next(_counter)}", **fields}
        response = self.client.post("/v1/projects", json=body, headers=admin.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def story(self, creator: TestUser, title: str | None = None, **fields: Any) -> dict[str, Any]:
        """A story created through POST /v1/stories (private ones via `private=True`,
        `users=[ids]`, `teams=[ids]`)."""
        body = {"title": title or f"Story {next(_counter)}", **fields}
        response = self.client.post("/v1/stories", json=body, headers=creator.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def task(
        self, creator: TestUser, *, story_id: int, project_id: int, **fields: Any
    ) -> dict[str, Any]:
        """A task created through POST /v1/tasks."""
        body = {
            "title": fields.pop("title", None) or f"Task {next(_counter)}",
            "story_id": story_id,
            "project_id": project_id,
            **fields,
        }
        response = self.client.post("/v1/tasks", json=body, headers=creator.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    # Release cycles, through the services (the API is a thin layer on them).

    def cycle(
        self,
        admin: TestUser,
        name: str | None = None,
        *,
        starts_on: dt.date = dt.date(2026, 1, 5),
        releases_on: dt.date = dt.date(2026, 6, 29),
        entries: tuple[dict[str, Any], ...] = (),
        managers: tuple[int, ...] = (),
    ) -> int:
        """A cycle with schedule `entries` (EntryIn fields); its id."""
        actor = Actor(user_id=admin.id, is_superuser=True, can_write=True)
        with self.container.db.write() as session:
            data = cycles.CycleIn(
                name=name or f"cycle{next(_counter)}",
                starts_on=starts_on,
                releases_on=releases_on,
                managers=list(managers),
            )
            cycle = cycles.create_cycle(session, actor=actor, data=data)
            for entry in entries:
                cycles.add_entry(
                    session, actor=actor, cycle=cycle, data=cycles.EntryIn.model_validate(entry)
                )
            return cycle.id

    def series(self, admin: TestUser, *, cycle_id: int, project_id: int, **fields: Any) -> int:
        """The project joins the cycle on its master branch (or `branch_id`); the series' id."""
        if "branch_id" not in fields:
            branches = self.client.get("/v1/branches", params={"project_id": project_id}).json()
            fields["branch_id"] = next(b["id"] for b in branches if b["name"] == "master")
        actor = Actor(user_id=admin.id, is_superuser=True, can_write=True)
        with self.container.db.write() as session:
            cycle = cycles.get_cycle(session, cycle_id)
            data = cycles.SeriesIn(project_id=project_id, **fields)
            return cycles.join(session, actor=actor, cycle=cycle, data=data).id
