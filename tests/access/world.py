"""Random permission graphs ("worlds"), built through the API, and a tiny
reference model of who may see what in them.

The model is written from StoryBoard's rules, independently of
`storyline.kernel.access`: stories are public or private and shared with
users and teams; tasks, comments, links, cards and events follow their
story; worklists, boards and due dates are public or private and shared with
their role holders, and a lane is also shared with its board's. Superusers
see everything; the anonymous caller sees what is public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import strategies as st

from tests.factories import Factory, TestUser

# Every story and task title holds it, so one search finds them all.
WORD = "quokka"


# What hypothesis draws: indexes into the world's users, teams, stories.


@dataclass(frozen=True)
class StorySpec:
    creator: int
    private: bool
    users: frozenset[int]
    teams: frozenset[int]
    # The project (index) of each task.
    tasks: tuple[int, ...]
    comment: bool


@dataclass(frozen=True)
class ListSpec:
    creator: int
    private: bool
    movers: frozenset[int]
    # ("story" | "task", index into all stories or all tasks)
    items: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class BoardSpec:
    creator: int
    private: bool
    movers: frozenset[int]
    lanes: tuple[tuple[tuple[str, int], ...], ...]
    # A private worklist of the creator's, added as one more lane.
    private_lane: bool


@dataclass(frozen=True)
class DueDateSpec:
    private: bool
    users: frozenset[int]
    board: int | None


@dataclass(frozen=True)
class PrivacyChange:
    story: int
    private: bool
    users: frozenset[int]
    teams: frozenset[int]


@dataclass(frozen=True)
class WorldSpec:
    users: int
    teams: tuple[frozenset[int], ...]
    projects: int
    stories: tuple[StorySpec, ...]
    links: tuple[tuple[int, int], ...]
    worklists: tuple[ListSpec, ...]
    boards: tuple[BoardSpec, ...]
    due_dates: tuple[DueDateSpec, ...]
    # (user, "story" | "worklist" | "board", index)
    subscriptions: tuple[tuple[int, str, int], ...]
    changes: tuple[PrivacyChange, ...]


def _subset(n: int) -> st.SearchStrategy[frozenset[int]]:
    return st.frozensets(st.integers(0, n - 1), max_size=n) if n else st.just(frozenset())


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    n_users = draw(st.integers(2, 4))
    teams = tuple(draw(st.lists(_subset(n_users), max_size=2)))
    projects = draw(st.integers(1, 2))
    stories = tuple(
        draw(
            st.lists(
                st.builds(
                    StorySpec,
                    creator=st.integers(0, n_users - 1),
                    private=st.booleans(),
                    users=_subset(n_users),
                    teams=_subset(len(teams)),
                    tasks=st.lists(st.integers(0, projects - 1), max_size=2).map(tuple),
                    comment=st.booleans(),
                ),
                min_size=1,
                max_size=4,
            )
        )
    )
    n_stories, n_tasks = len(stories), sum(len(s.tasks) for s in stories)
    kinds = ["story"] + (["task"] if n_tasks else [])

    def item(kind: str) -> st.SearchStrategy[tuple[str, int]]:
        return st.integers(0, (n_stories if kind == "story" else n_tasks) - 1).map(
            lambda i: (kind, i)
        )

    items = st.lists(st.sampled_from(kinds).flatmap(item), max_size=3).map(tuple)
    worklists = tuple(
        draw(
            st.lists(
                st.builds(
                    ListSpec,
                    creator=st.integers(0, n_users - 1),
                    private=st.booleans(),
                    movers=_subset(n_users),
                    items=items,
                ),
                max_size=2,
            )
        )
    )
    boards = tuple(
        draw(
            st.lists(
                st.builds(
                    BoardSpec,
                    creator=st.integers(0, n_users - 1),
                    private=st.booleans(),
                    movers=_subset(n_users),
                    lanes=st.lists(items, min_size=1, max_size=2).map(tuple),
                    private_lane=st.booleans(),
                ),
                max_size=2,
            )
        )
    )
    due_dates = tuple(
        draw(
            st.lists(
                st.builds(
                    DueDateSpec,
                    private=st.booleans(),
                    users=_subset(n_users),
                    board=st.none() | st.integers(0, len(boards) - 1) if boards else st.none(),
                ),
                max_size=2,
            )
        )
    )
    targets = [("story", n_stories), ("worklist", len(worklists)), ("board", len(boards))]
    subscriptions = tuple(
        draw(
            st.lists(
                st.tuples(
                    st.integers(0, n_users - 1),
                    st.sampled_from([(k, n) for k, n in targets if n]),
                    st.integers(0, 3),
                ).map(lambda t: (t[0], t[1][0], t[2] % t[1][1])),
                max_size=4,
            )
        )
    )
    links = tuple(
        draw(
            st.lists(
                st.tuples(st.integers(0, n_stories - 1), st.integers(0, n_stories - 1)).filter(
                    lambda pair: pair[0] != pair[1]
                ),
                max_size=2,
                unique_by=lambda pair: frozenset(pair),
            )
        )
    )
    changes = tuple(
        draw(
            st.lists(
                st.builds(
                    PrivacyChange,
                    story=st.integers(0, n_stories - 1),
                    private=st.booleans(),
                    users=_subset(n_users),
                    teams=_subset(len(teams)),
                ),
                max_size=2,
            )
        )
    )
    return WorldSpec(
        users=n_users,
        teams=teams,
        projects=projects,
        stories=stories,
        links=links,
        worklists=worklists,
        boards=boards,
        due_dates=due_dates,
        subscriptions=subscriptions,
        changes=changes,
    )


# The reference model: plain sets, filled in as the world is built.


@dataclass
class Guarded:
    """A worklist, board or due date: public, or private to its role holders."""

    private: bool
    roles: set[int]


@dataclass
class Model:
    admin: int
    team_members: dict[int, set[int]] = field(default_factory=dict)
    # story id -> (private, ACL users, ACL teams)
    stories: dict[int, tuple[bool, set[int], set[int]]] = field(default_factory=dict)
    creators: dict[int, int] = field(default_factory=dict)
    # story id -> the names of its tags
    tags: dict[int, set[str]] = field(default_factory=dict)
    tasks: dict[int, int] = field(default_factory=dict)
    comments: dict[int, int] = field(default_factory=dict)
    # link id -> (story, other story)
    links: dict[int, tuple[int, int]] = field(default_factory=dict)
    worklists: dict[int, Guarded] = field(default_factory=dict)
    boards: dict[int, Guarded] = field(default_factory=dict)
    lanes: dict[int, list[int]] = field(default_factory=dict)
    due_dates: dict[int, Guarded] = field(default_factory=dict)
    board_dates: dict[int, set[int]] = field(default_factory=dict)
    # item id -> (list id, "story" | "task", story or task id)
    items: dict[int, tuple[int, str, int]] = field(default_factory=dict)

    def acl(
        self,
        actor: int,
        private: bool,
        users: set[int],
        teams: set[int],
        creator: int | None = None,
    ) -> set[int]:
        """The ACL a private story gets: its writer stays on it (unless a team
        of theirs is, or they are an administrator naming others), and so
        does its `creator` when it is being made private."""
        if not private:
            return users
        keep = {creator} if creator is not None else set()
        if not (actor == self.admin and (users or teams)):
            keep.add(actor)
        kept = {
            one
            for one in keep
            if one not in users and not any(one in self.team_members[t] for t in teams)
        }
        return users | kept

    def tag_names(self, who: int | None) -> set[str]:
        """Tags are listed when a visible story carries them."""
        return {
            name for story, names in self.tags.items() if self.story(who, story) for name in names
        }

    def story(self, who: int | None, story_id: int) -> bool:
        if who == self.admin:
            return True
        private, users, teams = self.stories[story_id]
        if not private:
            return True
        return who is not None and (who in users or any(who in self.team_members[t] for t in teams))

    def task(self, who: int | None, task_id: int) -> bool:
        return self.story(who, self.tasks[task_id])

    def item(self, who: int | None, item_id: int) -> bool:
        _, kind, target = self.items[item_id]
        return self.story(who, target) if kind == "story" else self.task(who, target)

    def _guarded(self, who: int | None, thing: Guarded) -> bool:
        return who == self.admin or not thing.private or who in thing.roles

    def worklist(self, who: int | None, list_id: int) -> bool:
        if self._guarded(who, self.worklists[list_id]):
            return True
        return any(
            list_id in lanes and who in self.boards[board].roles
            for board, lanes in self.lanes.items()
        )

    def board(self, who: int | None, board_id: int) -> bool:
        return self._guarded(who, self.boards[board_id])

    def due_date(self, who: int | None, due_id: int) -> bool:
        return self._guarded(who, self.due_dates[due_id])

    def event(self, who: int | None, event: dict[str, Any]) -> bool:
        return (
            (event["story_id"] is None or self.story(who, event["story_id"]))
            and (event["worklist_id"] is None or self.worklist(who, event["worklist_id"]))
            and (event["board_id"] is None or self.board(who, event["board_id"]))
        )

    def sees(self, who: int | None, kind: str, object_id: int) -> bool:
        check = {
            "story": self.story,
            "task": self.task,
            "comment": lambda w, i: self.story(w, self.comments[i]),
            "worklist": self.worklist,
            "board": self.board,
            "due_date": self.due_date,
        }[kind]
        return bool(check(who, object_id))


# Building a world through the API, the way its users would.


@dataclass
class World:
    spec: WorldSpec
    admin: TestUser
    users: list[TestUser]
    model: Model
    subscribed: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def actors(self) -> list[TestUser | None]:
        return [None, self.admin, *self.users]


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 204), response.text
    return response.json() if response.status_code == 200 else None


def build(client: TestClient, factory: Factory, spec: WorldSpec) -> World:
    admin = factory.admin()
    users = [factory.user() for _ in range(spec.users)]
    model = Model(admin=admin.id)
    world = World(spec=spec, admin=admin, users=users, model=model)
    uid = [u.id for u in users]

    def post(path: str, who: TestUser, body: Any = None, **params: Any) -> Any:
        return _ok(client.post(path, json=body, params=params or None, headers=who.headers))

    team_ids = []
    for n, members in enumerate(spec.teams):
        team = post("/v1/teams", admin, {"name": f"team-{n}"})
        for m in sorted(members):
            _ok(client.put(f"/v1/teams/{team['id']}/users/{uid[m]}", headers=admin.headers))
        team_ids.append(team["id"])
        model.team_members[team["id"]] = {uid[m] for m in members}
    projects = [factory.project(admin)["id"] for _ in range(spec.projects)]

    story_ids, task_ids = [], []
    for n, s in enumerate(spec.stories):
        creator = users[s.creator]
        acl_users = {uid[i] for i in s.users}
        acl_teams = {team_ids[i] for i in s.teams}
        body = {
            "title": f"Story {n} {WORD}",
            "private": s.private,
            "users": sorted(acl_users),
            "teams": sorted(acl_teams),
            "tags": [f"only-{n}", "common"],
        }
        story = post("/v1/stories", creator, body)
        story_ids.append(story["id"])
        model.creators[story["id"]] = creator.id
        model.tags[story["id"]] = {f"only-{n}", "common"}
        model.stories[story["id"]] = (
            s.private,
            model.acl(creator.id, s.private, acl_users, acl_teams),
            acl_teams,
        )
        for project in s.tasks:
            task = post(
                "/v1/tasks",
                creator,
                {"title": f"Task {WORD}", "story_id": story["id"], "project_id": projects[project]},
            )
            task_ids.append(task["id"])
            model.tasks[task["id"]] = story["id"]
        if s.comment:
            event = post(f"/v1/stories/{story['id']}/comments", creator, {"content": "Hi"})
            model.comments[event["comment_id"]] = story["id"]
    for a, b in spec.links:
        link = post(
            f"/v1/stories/{story_ids[a]}/links",
            admin,
            {"target_story_id": story_ids[b], "kind": "relates"},
        )
        model.links[link["id"]] = (story_ids[a], story_ids[b])

    def add_items(list_id: int, items: tuple[tuple[str, int], ...]) -> None:
        for kind, index in dict.fromkeys(items):
            target = story_ids[index] if kind == "story" else task_ids[index]
            item = post(f"/v1/worklists/{list_id}/items", admin, item_id=target, item_type=kind)
            model.items[item["id"]] = (list_id, kind, target)

    worklist_ids = []
    for w in spec.worklists:
        creator = users[w.creator]
        movers = {uid[i] for i in w.movers}
        body = {"title": "List", "private": w.private, "users": sorted(movers)}
        worklist = post("/v1/worklists", creator, body)
        worklist_ids.append(worklist["id"])
        model.worklists[worklist["id"]] = Guarded(w.private, {creator.id} | movers)
        add_items(worklist["id"], w.items)
    board_ids = []
    for b in spec.boards:
        creator = users[b.creator]
        movers = {uid[i] for i in b.movers}
        lanes: list[dict[str, Any]] = [{"worklist": {"title": "Lane"}} for _ in b.lanes]
        extra = None
        if b.private_lane:
            extra = post("/v1/worklists", creator, {"title": "Hidden lane", "private": True})
            model.worklists[extra["id"]] = Guarded(True, {creator.id})
            lanes.append({"list_id": extra["id"]})
        body = {"title": "Board", "private": b.private, "users": sorted(movers), "lanes": lanes}
        board = post("/v1/boards", creator, body)
        board_ids.append(board["id"])
        model.boards[board["id"]] = Guarded(b.private, {creator.id} | movers)
        lane_ids = [lane["list_id"] for lane in board["lanes"]]
        model.lanes[board["id"]] = lane_ids
        for list_id, items in zip(lane_ids, b.lanes, strict=False):
            if extra is None or list_id != extra["id"]:
                model.worklists[list_id] = Guarded(b.private, {creator.id})
                add_items(list_id, items)
        if extra is not None:
            add_items(extra["id"], b.lanes[0])
    for d in spec.due_dates:
        users_of = {uid[i] for i in d.users}
        body = {
            "name": "Due",
            "date": "2030-01-01T00:00:00Z",
            "private": d.private,
            "users": sorted(users_of),
            "board_id": board_ids[d.board] if d.board is not None else None,
        }
        due = post("/v1/due_dates", admin, body)
        model.due_dates[due["id"]] = Guarded(d.private, {admin.id} | users_of)
        if d.board is not None:
            model.board_dates.setdefault(board_ids[d.board], set()).add(due["id"])

    targets = {"story": story_ids, "worklist": worklist_ids, "board": board_ids}
    for who, kind, index in dict.fromkeys(spec.subscriptions):
        user, target = users[who], targets[kind][index]
        response = client.post(
            "/v1/subscriptions",
            json={"target_type": kind, "target_id": target},
            headers=user.headers,
        )
        # Following what one may not see answers as if it did not exist.
        visible = model.sees(user.id, kind, target)
        # Creators follow what they create already (409).
        assert response.status_code in ((200, 409) if visible else (400,)), response.text
        if visible:
            world.subscribed.append((user.id, kind, target))

    # Changes after the subscriptions, so that feeds hold events of stories
    # that some subscribers may no longer see.
    for change in spec.changes:
        story_id = story_ids[change.story]
        acl_users = {uid[i] for i in change.users}
        acl_teams = {team_ids[i] for i in change.teams}
        body = {"private": change.private, "users": sorted(acl_users), "teams": sorted(acl_teams)}
        _ok(client.put(f"/v1/stories/{story_id}", json=body, headers=admin.headers))
        was_private = model.stories[story_id][0]
        creator_id = model.creators[story_id] if change.private and not was_private else None
        model.stories[story_id] = (
            change.private,
            model.acl(admin.id, change.private, acl_users, acl_teams, creator_id),
            acl_teams,
        )
        event = post(f"/v1/stories/{story_id}/comments", admin, {"content": "After the change"})
        model.comments[event["comment_id"]] = story_id
    return world
