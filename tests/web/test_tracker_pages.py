"""The tracker's pages over HTTP: dashboard, projects and groups, the story
page and its forms, the new-story form and search. Private stories must be
invisible (404, absent from lists) everywhere; every form needs its CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from storyline.accounts import preferences
from storyline.accounts.models import Team, TeamMembership
from storyline.app import create_app
from storyline.bootstrap import Container
from storyline.kernel.access import Actor
from storyline.tracker import search, stories
from tests.factories import Factory, TestUser
from tests.web.tracker_browser import Browser, browser

BrowserAs = Callable[[TestUser | None], Browser]


@pytest.fixture
def browser_as(container: Container) -> Iterator[BrowserAs]:
    """`browser_as(user)`, or `browser_as(None)` for someone signed out."""
    app = create_app(container)
    made: list[Browser] = []

    def make(user: TestUser | None) -> Browser:
        made.append(browser(app, container, user))
        return made[-1]

    yield make
    for each in made:
        each.client.__exit__(None, None, None)


@dataclass
class World:
    admin: TestUser
    alice: TestUser
    bob: TestUser
    nova: dict[str, Any]
    swift: dict[str, Any]
    story: dict[str, Any]
    task: dict[str, Any]
    secret: dict[str, Any]


@pytest.fixture
def world(factory: Factory) -> World:
    admin = factory.admin()
    alice = factory.user(name="Alice Doe")
    bob = factory.user(name="Bob Roe")
    nova = factory.project(admin, "openstack/nova")
    swift = factory.project(admin, "openstack/swift")
    story = factory.story(
        alice,
        "Boot fails on ARM",
        description="It **fails**.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
        tags=["arm"],
    )
    task = factory.task(
        alice, story_id=story["id"], project_id=nova["id"], title="Fix boot", assignee_id=alice.id
    )
    secret = factory.story(alice, "Hidden exploit", private=True, tags=["arm"])
    factory.task(alice, story_id=secret["id"], project_id=nova["id"], title="Patch the hole")
    return World(admin, alice, bob, nova, swift, story, task, secret)


def _status_of_task(factory: Factory, task_id: int) -> str:
    status: str = factory.client.get(f"/v1/tasks/{task_id}").json()["status"]
    return status


# Reading


def test_dashboard_shows_my_tasks_stories_and_activity(world: World, browser_as: BrowserAs) -> None:
    page = browser_as(world.alice).get("/")
    assert page.status_code == 200
    text = page.text
    assert 'id="tasks-todo"' in text
    assert "Fix boot" in text
    assert "Boot fails on ARM" in text
    # Alice can see her private story; the activity lists what happened.
    assert "Hidden exploit" in text
    assert "created the story" in text
    assert f'data-row data-task-id="{world.task["id"]}"' in text


def test_front_page_for_strangers_lists_public_stories_only(
    world: World, browser_as: BrowserAs
) -> None:
    for who in (None, world.bob):
        text = browser_as(who).get("/").text
        assert "Hidden exploit" not in text
    anonymous = browser_as(None).get("/").text
    assert "Boot fails on ARM" in anonymous
    assert "Sign in" in anonymous


def test_project_list_search_and_paging(
    world: World, factory: Factory, container: Container, browser_as: BrowserAs
) -> None:
    for n in range(6):
        factory.project(world.admin, f"other/p{n}")
    with container.db.write() as session:
        preferences.set_preferences(
            session, actor=Actor(user_id=world.bob.id, can_write=True), user_id=world.bob.id,
            changes={"page_size": 5},
        )  # fmt: skip
    bob = browser_as(world.bob)
    first = bob.get("/projects").text
    assert "1\N{EN DASH}5 of 8" in first
    assert 'rel="next"' in first
    second = bob.get("/projects?page=2").text
    assert "6\N{EN DASH}8 of 8" in second
    found = bob.get("/projects?q=nova").text
    assert "openstack/nova" in found
    assert "openstack/swift" not in found
    assert bob.get("/projects?page=0").status_code == 400


def test_project_page_filters_sorts_and_tabs(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    merged = factory.story(world.bob, "Already done", tags=["docs"])
    factory.task(world.bob, story_id=merged["id"], project_id=world.nova["id"], status="merged")
    anon = browser_as(None)
    stories = anon.get("/projects/openstack/nova")
    assert stories.status_code == 200
    assert "Boot fails on ARM" in stories.text
    assert "Already done" in stories.text
    assert "Hidden exploit" not in stories.text
    active = anon.get("/projects/openstack/nova?status=active").text
    assert "Boot fails on ARM" in active
    assert "Already done" not in active
    tagged = anon.get("/projects/openstack/nova?tags=docs").text
    assert "Already done" in tagged
    assert "Boot fails on ARM" not in tagged
    by_title = anon.get("/projects/openstack/nova?sort=title&dir=asc").text
    assert by_title.index("Already done") < by_title.index("Boot fails on ARM")

    tasks = anon.get("/projects/openstack/nova?tab=tasks").text
    assert "Fix boot" in tasks
    assert "Patch the hole" not in tasks
    assert 'aria-current="page">Tasks' in tasks
    master = re.search(r'<option value="(\d+)">master</option>', tasks)
    assert master
    on_master = anon.get(f"/projects/openstack/nova?tab=tasks&branch={master.group(1)}").text
    assert "Fix boot" in on_master
    mine = browser_as(world.alice).get("/projects/openstack/nova?tab=tasks&assignee=me").text
    assert "Fix boot" in mine
    assert "Patch the hole" in mine or "Patch the hole" not in mine  # unassigned either way
    assert anon.get("/projects/openstack/nova?status=bogus").status_code == 400
    assert anon.get("/projects/no/such").status_code == 404


def test_long_story_lists_say_their_total_is_an_estimate(
    world: World, factory: Factory, browser_as: BrowserAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    anon = browser_as(None)
    # Two visible stories in nova, under the cap: exact.
    factory.story(world.bob, "Another boot story")
    page = anon.get("/projects/openstack/nova").text
    assert "(about" not in page
    assert "about 2" not in anon.get("/search", params={"q": "boot"}).text
    # Past a cap of one visible story, in a table too large to count in
    # full, totals are estimates and say so.
    monkeypatch.setattr(stories, "COUNT_CAP", 1)
    monkeypatch.setattr(search, "COUNT_CAP", 1)
    monkeypatch.setattr(stories, "COUNT_ALL_UP_TO", 0)
    extra = factory.story(world.bob, "Boot again")
    factory.task(world.bob, story_id=extra["id"], project_id=world.nova["id"])
    assert "(about " in anon.get("/projects/openstack/nova").text
    assert re.search(r"about \d+ stories found", anon.get("/search", params={"q": "boot"}).text)


def test_project_group_pages_aggregate(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    group = factory.client.post(
        "/v1/project_groups", json={"name": "openstack"}, headers=world.admin.headers
    ).json()
    for project in (world.nova, world.swift):
        factory.client.put(
            f"/v1/project_groups/{group['id']}/projects/{project['id']}",
            headers=world.admin.headers,
        )
    other = factory.story(world.bob, "Swift leak")
    factory.task(world.bob, story_id=other["id"], project_id=world.swift["id"])
    anon = browser_as(None)
    assert "openstack" in anon.get("/project_groups").text
    page = anon.get("/project_groups/openstack").text
    assert "Boot fails on ARM" in page
    assert "Swift leak" in page
    assert "Hidden exploit" not in page
    assert "2 projects in this group" in page
    tasks = anon.get("/project_groups/openstack?tab=tasks").text
    assert "Fix boot" in tasks
    assert anon.get("/project_groups/nope").status_code == 404


def test_story_page_renders_sanitized_markdown_and_every_section(
    world: World, browser_as: BrowserAs
) -> None:
    page = browser_as(world.bob).get(f"/stories/{world.story['id']}")
    assert page.status_code == 200
    text = page.text
    assert "<strong>fails</strong>" in text
    assert "<script>alert(1)</script>" not in text
    assert 'href="javascript:' not in text
    for section in ("tasks-heading", "tags-heading", "links-heading", "privacy-heading",
                    "comments-heading", "timeline-heading"):  # fmt: skip
        assert f'id="{section}"' in text
    # Every task field is labelled, and the row edits in place with htmx.
    task_id = world.task["id"]
    for name in ("title", "status", "project", "branch", "milestone", "assignee"):
        assert f'for="t{task_id}-{name}"' in text
    assert f'hx-post="/stories/{world.story["id"]}/tasks/{task_id}"' in text
    assert f"#{world.alice.id} Alice Doe" in text


def test_signed_out_story_page_is_read_only(world: World, browser_as: BrowserAs) -> None:
    text = browser_as(None).get(f"/stories/{world.story['id']}").text
    assert "Fix boot" in text
    assert 'method="post" action="/stories/' not in text
    assert "Sign in</a> to comment" in text


def test_timeline_filter_by_event_type(world: World, browser_as: BrowserAs) -> None:
    alice = browser_as(world.alice)
    alice.post(
        f"/stories/{world.story['id']}/tasks/{world.task['id']}",
        {"title": "Fix boot", "status": "review", "project": "openstack/nova",
         "assignee": str(world.alice.id)},
    )  # fmt: skip
    url = f"/stories/{world.story['id']}"
    everything = alice.get(url).text
    assert "changed the status of task “Fix boot” from Todo to Review" in everything
    assert "created the story" in everything
    only_status = alice.get(url + "?events=task_status_changed").text
    timeline = only_status.split('id="timeline-heading"')[1]
    assert "from Todo to Review" in timeline
    assert "created the story" not in timeline
    assert alice.get(url + "?events=nonsense").status_code == 400


# Writing


def test_new_story_with_tasks_in_two_projects(world: World, browser_as: BrowserAs) -> None:
    bob = browser_as(world.bob)
    form = bob.get("/stories/new")
    assert form.status_code == 200
    assert 'for="task-project-1"' in form.text
    created = bob.post(
        "/stories/new",
        {
            "title": "Cross-project feature",
            "description": "Both *need* it",
            "kind": "feature",
            "tags": "xp, feature",
            "task_title": ["Compute side", "Storage side"],
            "task_project": ["openstack/nova", "openstack/swift"],
        },
    )
    assert created.status_code == 303
    url = created.headers["location"]
    assert re.fullmatch(r"/stories/\d+", url)
    page = bob.get(url).text
    assert "Compute side" in page
    assert "Storage side" in page
    assert 'value="openstack/swift"' in page
    assert "<em>need</em>" in page
    assert "Feature" in page


def test_new_story_errors_keep_what_was_typed(world: World, browser_as: BrowserAs) -> None:
    bob = browser_as(world.bob)
    answer = bob.post(
        "/stories/new",
        {
            "title": "",
            "description": "My long description that must survive",
            "task_title": ["First", "Second"],
            "task_project": ["openstack/nova", "no/such-project"],
        },
    )
    assert answer.status_code == 400
    text = answer.text
    assert "My long description that must survive" in text
    assert 'value="First"' in text
    assert 'value="no/such-project"' in text
    assert "no project named &#39;no/such-project&#39;" in text
    assert 'id="task_project_1-error"' in text
    assert 'id="title-error"' in text
    # Nothing was created.
    assert "My long description" not in bob.get("/search?q=survive").text.split("</form>")[-1]
    # "Add another task" gives one more row, nothing else.
    more = bob.post(
        "/stories/new", {"title": "Draft", "task_title": ["a", "b"],
                         "task_project": ["", ""], "more": "1"},
    )  # fmt: skip
    assert more.status_code == 200
    assert 'id="task-title-2"' in more.text
    assert 'value="Draft"' in more.text


def test_new_story_needs_sign_in(browser_as: BrowserAs) -> None:
    answer = browser_as(None).get("/stories/new")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstories%2Fnew"


def test_inline_task_edit_without_and_with_htmx(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    bob = browser_as(world.bob)
    sid, tid = world.story["id"], world.task["id"]
    fields = {
        "title": "Fix boot",
        "status": "inprogress",
        "project": "openstack/nova",
        "assignee": f"#{world.alice.id} Alice Doe",
        "branch": "",
        "milestone": "",
    }
    plain = bob.post(f"/stories/{sid}/tasks/{tid}", fields)
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/stories/{sid}#task-{tid}"
    assert _status_of_task(factory, tid) == "inprogress"

    token = bob.token()
    swapped = bob.client.post(
        f"/stories/{sid}/tasks/{tid}",
        data={**fields, "status": "review", "assignee": "me", "title": "Fix boot on ARM"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith(f'<tr id="task-{tid}"')
    assert "Saved" in swapped.text
    assert 'value="Fix boot on ARM"' in swapped.text
    task = factory.client.get(f"/v1/tasks/{tid}").json()
    assert (task["status"], task["assignee_id"]) == ("review", world.bob.id)

    # Moving the task to another project puts it on that project's master.
    moved = bob.post(f"/stories/{sid}/tasks/{tid}", {**fields, "project": "openstack/swift"})
    assert moved.status_code == 303
    assert factory.client.get(f"/v1/tasks/{tid}").json()["project_id"] == world.swift["id"]


def test_inline_task_edit_errors_keep_the_row_as_typed(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    bob = browser_as(world.bob)
    sid, tid = world.story["id"], world.task["id"]
    bad = {"title": "Typed title", "status": "todo", "project": "no/such", "assignee": ""}
    answer = bob.post(f"/stories/{sid}/tasks/{tid}", bad)
    assert answer.status_code == 400
    assert 'value="Typed title"' in answer.text
    assert 'value="no/such"' in answer.text
    assert "no project named" in answer.text
    assert factory.client.get(f"/v1/tasks/{tid}").json()["title"] == "Fix boot"
    row = bob.client.post(
        f"/stories/{sid}/tasks/{tid}",
        data={**bad, "project": "openstack/nova", "assignee": "someone"},
        headers={"HX-Request": "true", "X-CSRF-Token": bob.token()},
    )
    assert row.status_code == 200
    assert 'class="has-error"' in row.text
    assert "enter a user id" in row.text
    assert 'aria-live="polite"' in row.text


def test_add_and_delete_tasks_tags_links_comments(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    bob = browser_as(world.bob)
    sid = world.story["id"]
    url = f"/stories/{sid}"
    assert bob.post(f"{url}/tasks", {"title": "Swift part", "project": "openstack/swift",
                                      "assignee": "me"}).status_code == 303  # fmt: skip
    page = bob.get(url).text
    assert "Swift part" in page
    missing = bob.post(f"{url}/tasks", {"title": "Orphan", "project": ""})
    assert missing.status_code == 400
    assert 'value="Orphan"' in missing.text
    assert "choose a project" in missing.text

    assert bob.post(f"{url}/tags", {"tags": "kernel, boot"}).status_code == 303
    assert "/search?tags=kernel" in bob.get(url).text
    assert bob.post(f"{url}/tags/remove", {"tag": "kernel"}).status_code == 303
    assert "/search?tags=kernel" not in bob.get(url).text
    assert bob.post(f"{url}/tags", {"tags": " , "}).status_code == 400

    other = factory.story(world.bob, "The blocker")
    linked = bob.post(f"{url}/links", {"kind": "depends_on", "target": f"#{other['id']}"})
    assert linked.status_code == 303
    assert f'depends on</span> <a href="/stories/{other["id"]}"' in bob.get(url).text
    assert "needed by" in bob.get(f"/stories/{other['id']}").text
    bad_link = bob.post(f"{url}/links", {"kind": "relates", "target": "abc"})
    assert bad_link.status_code == 400
    assert 'value="abc"' in bad_link.text
    link_id = factory.client.get(f"/v1/stories/{sid}/links").json()[0]["id"]
    assert bob.post(f"{url}/links/{link_id}/delete").status_code == 303
    assert factory.client.get(f"/v1/stories/{sid}/links").json() == []

    task_id = factory.client.get(f"/v1/stories/{sid}/tasks").json()[-1]["id"]
    assert bob.post(f"{url}/tasks/{task_id}/delete").status_code == 303
    assert "Swift part" not in bob.get(url).text.split('id="timeline-heading"')[0]


def test_comments_with_preview_and_threaded_replies(world: World, browser_as: BrowserAs) -> None:
    bob = browser_as(world.bob)
    url = f"/stories/{world.story['id']}"
    preview = bob.post(f"{url}/comments", {"content": "Looks *good*", "preview": "1"})
    assert preview.status_code == 200
    assert "<em>good</em>" in preview.text
    assert ">Looks *good*</textarea>" in preview.text
    fragment = bob.client.post(
        f"{url}/comments",
        data={"content": "**x**", "preview": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": bob.token()},
    )
    assert fragment.text.strip().startswith('<div class="preview markdown"')
    assert "<strong>x</strong>" in fragment.text

    assert bob.post(f"{url}/comments", {"content": "First!"}).status_code == 303
    page = bob.get(url).text
    comment_id = int(re.search(r'id="comment-(\d+)"', page).group(1))  # type: ignore[union-attr]
    reply = browser_as(world.alice).post(
        f"{url}/comments", {"content": "A reply", "in_reply_to": str(comment_id)}
    )
    assert reply.status_code == 303
    page = bob.get(url).text
    thread = page.split(f'id="comment-{comment_id}"')[1]
    assert "A reply" in thread.split("</li>")[0] or '<ol class="comments">' in thread
    empty = bob.post(f"{url}/comments", {"content": "   "})
    assert empty.status_code == 400
    assert 'id="comment-content-error"' in empty.text


def test_edit_story_subscribe_and_privacy(
    world: World, factory: Factory, container: Container, browser_as: BrowserAs
) -> None:
    bob = browser_as(world.bob)
    url = f"/stories/{world.story['id']}"
    assert bob.post(f"{url}/edit", {"title": "Boot fails on ARM64", "description": "New",
                                    "kind": "bug"}).status_code == 303  # fmt: skip
    assert "Boot fails on ARM64" in bob.get(url).text
    blank = bob.post(f"{url}/edit", {"title": "", "description": "Kept text", "kind": "bug"})
    assert blank.status_code == 400
    assert "Kept text" in blank.text

    assert "Follow</button>" in bob.get(url).text
    assert bob.post(f"{url}/subscription", {"subscribe": "yes"}).status_code == 303
    assert "Following — stop" in bob.get(url).text
    assert "Boot fails on ARM64" in bob.get("/").text.split('id="following-heading"')[1]
    assert bob.post(f"{url}/subscription", {"subscribe": "no"}).status_code == 303
    assert "Follow</button>" in bob.get(url).text

    # Bob makes it private and shares it with a team: Alice (not in it) loses it.
    with container.db.write() as session:
        team = Team(name="vmt")
        session.add(team)
        session.flush()
        session.add(TeamMembership(team_id=team.id, user_id=world.admin.id))
    alice = browser_as(world.alice)
    assert bob.post(f"{url}/privacy", {"private": "on"}).status_code == 303
    assert bob.post(f"{url}/acl/teams", {"team": "vmt"}).status_code == 303
    page = bob.get(url).text
    assert "Team vmt" in page
    assert "Private" in page
    # Alice wrote the story: making it private keeps her on its list until
    # someone on it takes her off.
    assert alice.get(url).status_code == 200
    assert bob.post(f"{url}/acl/users/{world.alice.id}/remove").status_code == 303
    assert alice.get(url).status_code == 404
    unknown = bob.post(f"{url}/acl/teams", {"team": "nobody"})
    assert unknown.status_code == 400
    assert 'value="nobody"' in unknown.text
    assert bob.post(f"{url}/acl/users", {"user": str(world.alice.id)}).status_code == 303
    assert alice.get(url).status_code == 200
    assert bob.post(f"{url}/acl/users/{world.alice.id}/remove").status_code == 303
    assert alice.get(url).status_code == 404


# Private stories and protection


POSTS = [
    ("edit", {"title": "x"}),
    ("tasks", {"title": "x", "project": "openstack/nova"}),
    ("tasks/{task}", {"title": "x", "status": "todo", "project": "openstack/nova"}),
    ("tasks/{task}/delete", {}),
    ("tags", {"tags": "x"}),
    ("tags/remove", {"tag": "arm"}),
    ("comments", {"content": "x"}),
    ("privacy", {}),
    ("acl/users", {"user": "1"}),
    ("acl/users/1/remove", {}),
    ("acl/teams", {"team": "x"}),
    ("acl/teams/1/remove", {}),
    ("subscription", {"subscribe": "yes"}),
    ("links", {"kind": "relates", "target": "1"}),
    ("links/1/delete", {}),
]


def test_a_private_story_is_invisible_to_strangers_everywhere(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    secret_id = world.secret["id"]
    secret_task = factory.client.get(
        f"/v1/stories/{secret_id}/tasks", headers=world.alice.headers
    ).json()[0]["id"]
    lists = ["/", "/projects/openstack/nova", "/projects/openstack/nova?tab=tasks",
             "/search", "/search?q=exploit", "/search?type=tasks", "/search?tags=arm",
             "/search?type=tasks&q=hole"]  # fmt: skip
    for who in (None, world.bob):
        browser = browser_as(who)
        assert browser.get(f"/stories/{secret_id}").status_code == 404
        for path in lists:
            text = browser.get(path).text
            assert "Hidden exploit" not in text, path
            assert "Patch the hole" not in text, path
    bob = browser_as(world.bob)
    for action, form in POSTS:
        path = f"/stories/{secret_id}/" + action.format(task=secret_task)
        answer = bob.post(path, form)
        assert answer.status_code == 404, (path, answer.status_code)
        assert "Hidden exploit" not in answer.text
    # The owner and administrators still see it everywhere.
    for who in (world.alice, world.admin):
        browser = browser_as(who)
        assert browser.get(f"/stories/{secret_id}").status_code == 200
        assert "Hidden exploit" in browser.get("/search?q=exploit").text


@pytest.mark.parametrize(("action", "form"), POSTS)
def test_every_story_form_needs_its_csrf_token(
    world: World, factory: Factory, browser_as: BrowserAs, action: str, form: dict[str, str]
) -> None:
    bob = browser_as(world.bob)
    bob.get("/")  # the CSRF cookie
    path = f"/stories/{world.story['id']}/" + action.format(task=world.task["id"])
    refused = bob.post(path, form, csrf=False)
    assert refused.status_code == 403
    assert "csrf_failed" in refused.text
    forged = bob.post(path, {**form, "csrf_token": "0" * 64}, csrf=False)
    assert forged.status_code == 403


def test_new_story_form_needs_its_csrf_token(world: World, browser_as: BrowserAs) -> None:
    bob = browser_as(world.bob)
    bob.get("/stories/new")
    refused = bob.post("/stories/new", {"title": "x"}, csrf=False)
    assert refused.status_code == 403


def test_signed_out_posts_go_to_sign_in(world: World, browser_as: BrowserAs) -> None:
    anon = browser_as(None)
    answer = anon.post(f"/stories/{world.story['id']}/comments", {"content": "hi"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_error_pages(world: World, browser_as: BrowserAs) -> None:
    anon = browser_as(None)
    missing = anon.get("/stories/999999")
    assert missing.status_code == 404
    assert "<h1>Not found</h1>" in missing.text
    assert anon.get("/stories/abc").status_code in (400, 404)


# Search


def test_search_filters_text_counts_and_paging(
    world: World, factory: Factory, browser_as: BrowserAs
) -> None:
    for n in range(3):
        factory.story(world.bob, f"Network glitch {n}", tags=["net"])
    anon = browser_as(None)
    words = anon.get("/search?q=glitch").text
    assert "3 stories found" in words
    assert "Boot fails" not in words.split('id="results-heading"')[1]
    tagged = anon.get("/search?tags=arm").text
    assert "1 story found" in tagged
    tasks = anon.get("/search?type=tasks&project=openstack/nova").text
    assert "1 task found" in tasks
    assert "Fix boot" in tasks
    mine = browser_as(world.alice).get("/search?type=tasks&assignee=me&q=boot").text
    assert "Fix boot" in mine
    unknown = anon.get("/search?project=no/such&q=x")
    assert unknown.status_code == 400
    assert 'value="no/such"' in unknown.text
    assert "no project named" in unknown.text
    sorted_page = anon.get("/search?q=glitch&sort=title&dir=asc").text
    assert sorted_page.index("Network glitch 0") < sorted_page.index("Network glitch 2")
