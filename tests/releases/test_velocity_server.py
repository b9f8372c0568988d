"""The server's velocity: the tracker's done stories, the repositories' commits,
the API, and who sees what."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from storyline.bootstrap import Container
from storyline.kernel.access import ANONYMOUS
from storyline.releases.models import (
    MILESTONE,
    Cycle,
    ProjectRepository,
    ScheduleEntry,
    Series,
    SeriesMilestone,
)
from storyline.releases.velocity.report import cycle_velocity
from storyline.tracker.models import Branch
from tests.factories import Factory, TestUser
from tests.releases.gitrepo import Repo

# (cycle, position, starts_on, [(milestone day, tag of project A or None)], release tag of A)
CYCLES = [
    ("folsom", 1, "2012-04-01", [], "2012.2"),
    (
        "grizzly",
        2,
        "2012-10-01",
        [("2012-11-22", "2013.1.g1"), ("2013-01-10", "2013.1.g2")],
        "2013.1",
    ),
    ("icehouse", 3, "2013-10-17", [("2013-12-05", "2014.1.b1"), ("2014-01-23", None)], None),
]


@dataclass
class World:
    admin: TestUser
    project_a: int
    project_b: int
    group: int
    cycles: dict[str, int]
    # (cycle, number, project) -> tracker milestone id
    milestones: dict[tuple[str, int, int], int]


def _repository(path: Path) -> Repo:
    """Project A's history: folsom's release, grizzly's milestones (6 and 5
    commits, one merge), its release, icehouse-1 (3), then 2 commits before
    icehouse-2's day and 7 after it, with no icehouse-2 tag."""
    r = Repo(path)
    r.day = "2012-09-01"
    r.commit("folsom")
    r.tag("2012.2")
    r.day = "2012-11-01"
    r.commit("g1", 4)
    r.git("checkout", "--quiet", "-b", "topic")
    r.commit("topic", 2)
    r.git("checkout", "--quiet", "master")
    r.merge("topic")
    r.tag("2013.1.g1")
    r.day = "2012-12-15"
    r.commit("g2", 5)
    r.tag("2013.1.g2")
    r.day = "2013-04-01"
    r.commit("rc")
    r.tag("2013.1")
    r.day = "2013-11-01"
    r.commit("i1", 3)
    r.tag("2014.1.b1")
    r.day = "2014-01-20"
    r.commit("i2", 2)
    r.day = "2014-02-01"
    r.commit("i3", 7)
    return r


@pytest.fixture
def world(container: Container, client: TestClient, factory: Factory, tmp_path: Path) -> World:
    admin = factory.admin()
    a = factory.project(admin)["id"]
    b = factory.project(admin)["id"]
    group = client.post("/v1/project_groups", json={"name": "compute"}, headers=admin.headers)
    group_id = group.json()["id"]
    for project in (a, b):
        added = client.put(
            f"/v1/project_groups/{group_id}/projects/{project}", headers=admin.headers
        )
        assert added.status_code == 200, added.text
    repo = _repository(tmp_path / "a")
    cycles: dict[str, int] = {}
    milestones: dict[tuple[str, int, int], int] = {}
    with container.db.write() as session:
        masters = dict(
            session.execute(
                select(Branch.project_id, Branch.id).where(
                    Branch.project_id.in_([a, b]), Branch.name == "master"
                )
            ).all()
        )
    for name, position, starts, entries, release in CYCLES:
        tracker = {
            (number, project): client.post(
                "/v1/milestones",
                json={"name": f"{name}-{number}", "branch_id": masters[project]},
                headers=admin.headers,
            ).json()["id"]
            for number in range(1, len(entries) + 1)
            for project in (a, b)
        }
        with container.db.write() as session:
            cycle = Cycle(
                name=name,
                position=position,
                starts_on=dt.date.fromisoformat(starts),
                releases_on=dt.date.fromisoformat(starts) + dt.timedelta(days=180),
            )
            session.add(cycle)
            session.flush()
            cycles[name] = cycle.id
            series = {}
            for project in (a, b):
                series[project] = Series(
                    cycle_id=cycle.id,
                    project_id=project,
                    branch_id=masters[project],
                    release_tag=release if project == a else None,
                )
                session.add(series[project])
            session.flush()
            for number, (day, tag) in enumerate(entries, start=1):
                entry = ScheduleEntry(
                    cycle_id=cycle.id,
                    kind=MILESTONE,
                    number=number,
                    name=f"{name}-{number}",
                    starts_on=dt.date.fromisoformat(day),
                )
                session.add(entry)
                session.flush()
                for project in (a, b):
                    milestones[(name, number, project)] = tracker[(number, project)]
                    session.add(
                        SeriesMilestone(
                            series_id=series[project].id,
                            entry_id=entry.id,
                            milestone_id=tracker[(number, project)],
                            tag=tag if project == a else None,
                        )
                    )
            if name == "folsom":
                session.add(ProjectRepository(project_id=a, location=str(repo.path)))
    return World(admin, a, b, group_id, cycles, milestones)


def _done(
    factory: Factory,
    world: World,
    cycle: str,
    number: int,
    *,
    project: int | None = None,
    bug: bool = False,
    count: int = 1,
    **story: Any,
) -> None:
    project = project or world.project_a
    for _ in range(count):
        story_id = factory.story(world.admin, is_bug=bug, **story)["id"]
        factory.task(
            world.admin,
            story_id=story_id,
            project_id=project,
            milestone_id=world.milestones[(cycle, number, project)],
            status="merged",
        )


@pytest.fixture
def tracked(world: World, factory: Factory) -> World:
    """Project A: grizzly-1 2 features and 1 bug, grizzly-2 1 feature,
    icehouse-1 1 feature and 2 bugs, icehouse-2 1 feature; a private feature
    in grizzly-1; a story still open in grizzly-1; a merged task targeted
    elsewhere. Project B: icehouse-1 1 feature."""
    _done(factory, world, "grizzly", 1, count=2)
    _done(factory, world, "grizzly", 1, bug=True)
    _done(factory, world, "grizzly", 2)
    _done(factory, world, "icehouse", 1)
    _done(factory, world, "icehouse", 1, bug=True, count=2)
    _done(factory, world, "icehouse", 2)
    _done(factory, world, "icehouse", 1, project=world.project_b)
    _done(factory, world, "grizzly", 1, private=True)
    unfinished = factory.story(world.admin, is_bug=False)["id"]
    for status in ("merged", "review"):
        factory.task(
            world.admin,
            story_id=unfinished,
            project_id=world.project_a,
            milestone_id=world.milestones[("grizzly", 1, world.project_a)],
            status=status,
        )
    elsewhere = factory.story(world.admin, is_bug=False)["id"]
    factory.task(world.admin, story_id=elsewhere, project_id=world.project_a, status="merged")
    return world


def _velocity(
    client: TestClient, world: World, headers: dict[str, str] | None = None, **query: Any
) -> Any:
    response = client.get(
        f"/v1/cycles/{world.cycles['icehouse']}/velocity", params=query, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _row(document: Any, project: int) -> Any:
    return next(p for p in document["projects"] if p["id"] == project)


def test_features_bugs_and_commits_against_the_previous_cycle(
    client: TestClient, tracked: World
) -> None:
    document = _velocity(client, tracked)
    assert document["cycle"]["name"] == "icehouse"
    assert document["baseline"]["name"] == "grizzly"
    assert document["milestones"] == 2
    a = _row(document, tracked.project_a)
    # Anonymous: the private feature is not counted, nor the unfinished one.
    assert a["features"]["milestones"] == [
        {"milestone": 1, "baseline": 2, "current": 1},
        {"milestone": 2, "baseline": 1, "current": 1, "expected": 0.5, "score": 200.0},
    ]
    assert [m["current"] for m in a["bugs"]["milestones"]] == [2, 0]
    assert [m["baseline"] for m in a["bugs"]["milestones"]] == [1, 0]
    assert a["bugs"]["milestones"][1]["score"] is None
    # Commits: grizzly 6 (from folsom's release, merge left out) and 5;
    # icehouse 3 from grizzly's release, then 2 by icehouse-2's day (no tag).
    assert a["commits"]["milestones"] == [
        {"milestone": 1, "baseline": 6, "current": 3},
        {"milestone": 2, "baseline": 5, "current": 2, "expected": 2.5, "score": 80.0},
    ]
    assert a["commits_note"] is None
    b = _row(document, tracked.project_b)
    assert [m["current"] for m in b["features"]["milestones"]] == [1, 0]
    assert b["commits"] is None
    assert b["commits_note"] == "no repository is configured"
    assert document["project_groups"] == []


def test_private_stories_count_only_for_those_who_see_them(
    client: TestClient, tracked: World, factory: Factory
) -> None:
    admin = _row(_velocity(client, tracked, tracked.admin.headers), tracked.project_a)
    assert admin["features"]["milestones"][0]["baseline"] == 3
    stranger = factory.user()
    other = _row(_velocity(client, tracked, stranger.headers), tracked.project_a)
    assert other["features"]["milestones"][0]["baseline"] == 2


def test_a_group_sums_its_projects(client: TestClient, tracked: World) -> None:
    document = _velocity(client, tracked, project_group_id=tracked.group)
    assert {p["id"] for p in document["projects"]} == {tracked.project_a, tracked.project_b}
    (group,) = document["project_groups"]
    assert group["name"] == "compute"
    assert [m["current"] for m in group["features"]["milestones"]] == [2, 1]
    assert [m["current"] for m in group["commits"]["milestones"]] == [3, 2]
    assert group["commits_note"] == "1 of 2 projects have no commit count"


def test_one_project_and_another_baseline(client: TestClient, tracked: World) -> None:
    document = _velocity(
        client, tracked, project_id=tracked.project_a, baseline=tracked.cycles["folsom"]
    )
    # Folsom has no milestones: nothing to compare.
    assert document["milestones"] == 0
    (row,) = document["projects"]
    assert row["features"]["milestones"] == []
    assert row["commits"]["milestones"] == []


def test_only_passed_milestones_are_compared(container: Container, tracked: World) -> None:
    with container.db.read() as session:
        result = cycle_velocity(
            session,
            actor=ANONYMOUS,
            cycle_ref=tracked.cycles["icehouse"],
            project_id=tracked.project_a,
            today=dt.date(2014, 1, 1),
            data_dir=container.settings.data_dir,
        )
    assert result.milestones == 1
    assert result.projects[0].commits is not None
    assert [m.current for m in result.projects[0].commits] == [3]


def test_a_broken_repository_is_a_note_not_a_failure(
    client: TestClient, container: Container, tracked: World, tmp_path: Path
) -> None:
    with container.db.write() as session:
        repository = session.get(ProjectRepository, tracked.project_a)
        assert repository is not None
        repository.location = str(tmp_path)
    a = _row(_velocity(client, tracked), tracked.project_a)
    assert a["commits"] is None
    assert "is not a git repository" in a["commits_note"]
    assert a["features"]["milestones"][0]["current"] == 1


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/cycles/999999/velocity", 404, "not_found"),
        ("/v1/cycles/{folsom}/velocity", 400, "invalid_input"),
        ("/v1/cycles/{icehouse}/velocity?baseline={icehouse}", 400, "invalid_input"),
        ("/v1/cycles/{icehouse}/velocity?baseline=999999", 404, "not_found"),
        ("/v1/cycles/{icehouse}/velocity?project_id=1&project_group_id=1", 400, "invalid_input"),
        ("/v1/cycles/{icehouse}/velocity?project_id=999999", 404, "not_found"),
        ("/v1/cycles/{icehouse}/velocity?project_group_id=999999", 404, "not_found"),
        ("/v1/cycles/{icehouse}/velocity?project_id=0", 400, "invalid_input"),
        ("/v1/cycles/{icehouse}/velocity?since=1", 400, "invalid_input"),
    ],
)
def test_velocity_errors(
    client: TestClient, world: World, path: str, status: int, code: str
) -> None:
    response = client.get(path.format(**world.cycles))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_repository_is_for_administrators(
    client: TestClient, world: World, factory: Factory, tmp_path: Path
) -> None:
    url = f"/v1/project_repositories/{world.project_b}"
    assert client.get(url, headers=world.admin.headers).status_code == 404
    body = {"location": "https://opendev.org/openstack/nova"}
    assert client.put(url, json=body).status_code == 401
    user = factory.user()
    assert client.put(url, json=body, headers=user.headers).status_code == 403
    saved = client.put(url, json=body, headers=world.admin.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["location"] == body["location"]
    denied = client.get(url, headers=user.headers)
    assert denied.status_code == 403, denied.text
    assert client.get(url, headers=world.admin.headers).json()["location"] == body["location"]
    local = client.put(url, json={"location": str(tmp_path)}, headers=world.admin.headers)
    assert local.json()["location"] == str(tmp_path)
    document = _velocity(client, world, project_id=world.project_b)
    assert "not a git repository" in document["projects"][0]["commits_note"]
    assert (
        client.put(
            "/v1/project_repositories/999999", json=body, headers=world.admin.headers
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "location",
    [
        "relative/path",
        "/no/such/folder",
        "ftp://example.org/repo",
        "file:///srv/git/nova",
        "https:///no-host",
        "javascript://x",
        "/tmp\nx",
        "",
        "/" + "a" * 1000,
    ],
)
def test_repository_locations_are_checked(client: TestClient, world: World, location: str) -> None:
    response = client.put(
        f"/v1/project_repositories/{world.project_a}",
        json={"location": location},
        headers=world.admin.headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input"


def test_the_page_shows_tables_and_inline_charts(client: TestClient, tracked: World) -> None:
    page = client.get("/cycles/icehouse/velocity?baseline=grizzly")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Velocity of icehouse against grizzly" in html
    assert "<td>80%</td>" in html
    assert "no repository is configured" in html
    # Inline SVG that the pages' policy allows: no style element or attribute.
    assert html.count("<svg ") == 5
    assert "<style" not in html
    assert " style=" not in html
    # Each chart's ids are its own.
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert client.get("/cycles/nosuch/velocity").status_code == 404
    assert client.get("/cycles/icehouse/velocity?baseline=nosuch").status_code == 404


def test_the_page_hides_private_stories(client: TestClient, tracked: World) -> None:
    def first_feature_baseline(headers: dict[str, str]) -> str:
        html = client.get("/cycles/icehouse/velocity", headers=headers).text
        section = html.split("Features completed", 1)[1]
        return re.findall(r"<td>(\d+)</td>", section)[1]

    assert first_feature_baseline({}) == "2"


def test_statements_do_not_grow_with_projects(
    client: TestClient, container: Container, tracked: World
) -> None:
    def statements(**query: Any) -> int:
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])

        event.listen(container.db.engine, "before_cursor_execute", record)
        try:
            _velocity(client, tracked, **query)
        finally:
            event.remove(container.db.engine, "before_cursor_execute", record)
        return len(seen)

    # The same queries for one project and for a group of two.
    assert statements(project_group_id=tracked.group) == statements(project_id=tracked.project_a)
