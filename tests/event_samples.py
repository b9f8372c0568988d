"""One sample event of every registered kind, about objects a test provides.

The registry tests check that each kind's sample is a valid payload and has
a sentence of its own; the notification tests record the samples and look
for those sentences on the pages, in email, digests and webhooks. A kind
added to the registry without a sample here fails both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyline.domain import events as ev
from storyline.domain import payloads as p


@dataclass(frozen=True)
class World:
    """The objects the samples are about, and the names their sentences show."""

    story_id: int
    story_title: str
    other_story_id: int
    other_story_title: str
    task_id: int
    task_title: str
    project_id: int
    comment_id: int
    worklist_id: int
    worklist_title: str
    board_id: int
    board_title: str
    user_id: int
    user_name: str


class WorldNames:
    """`storyline.domain.sentences.Names`, answered from a world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def user(self, user_id: int | None) -> str:
        return self.world.user_name if user_id == self.world.user_id else f"User {user_id}"

    def story_title(self, story_id: int) -> str | None:
        titles = {
            self.world.story_id: self.world.story_title,
            self.world.other_story_id: self.world.other_story_title,
        }
        return titles.get(story_id)


@dataclass(frozen=True)
class Sample:
    event_type: str
    payload: p.Payload
    # Words its sentence must hold: what only this kind's sentence says.
    says: str
    story_id: int | None = None
    worklist_id: int | None = None
    board_id: int | None = None
    comment_id: int | None = None

    @property
    def info(self) -> dict[str, Any] | None:
        # An empty payload is stored as no event_info, as comments are.
        return self.payload.to_info() or None

    def sentence(self, world: World) -> str:
        return ev.REGISTRY[self.event_type].describe(self.info, WorldNames(world))


def samples(w: World) -> list[Sample]:
    task = {"task_id": w.task_id, "task_title": w.task_title}
    on_story = {"story_id": w.story_id}
    link = {
        "link_id": 1,
        "kind": "blocks",
        "story_id": w.story_id,
        "target_story_id": w.other_story_id,
        "other_story_id": w.other_story_id,
    }
    ffe = {
        "exception_id": 1,
        "freeze": "feature",
        "cycle_name": "icehouse",
        "project_id": w.project_id,
        "project_name": "openstack/nova",
    }
    item = {"item_id": w.other_story_id, "item_type": "story", "item_title": w.other_story_title}
    return [
        Sample(
            ev.USER_COMMENT, p.CommentCreated(), "commented", **on_story, comment_id=w.comment_id
        ),
        Sample(
            ev.COMMENT_EDITED,
            p.CommentEdited(comment_id=w.comment_id, history_id=1),
            "edited a comment",
            **on_story,
            comment_id=w.comment_id,
        ),
        Sample(
            ev.STORY_CREATED,
            p.StoryCreated(story_id=w.story_id, story_title=w.story_title),
            "created the story",
            **on_story,
        ),
        Sample(
            ev.STORY_DETAILS_CHANGED,
            p.StoryDetailsChanged(
                story_id=w.story_id,
                story_title=w.story_title,
                old={"title": "Old title"},
                new={"title": w.story_title},
            ),
            "changed the story (title)",
            **on_story,
        ),
        Sample(
            ev.STORY_PRIVACY_CHANGED,
            p.StoryPrivacyChanged(story_id=w.story_id, user_added=w.user_id),
            f"let {w.user_name} see the story",
            **on_story,
        ),
        Sample(
            ev.TAGS_ADDED,
            p.TagsChanged(story_title=w.story_title, tags=["needs-triage"]),
            "added tags needs-triage",
            **on_story,
        ),
        Sample(
            ev.TAGS_DELETED,
            p.TagsChanged(story_title=w.story_title, tags=["wontfix"]),
            "removed tags wontfix",
            **on_story,
        ),
        Sample(
            ev.TASK_CREATED,
            p.TaskCreated(**task, project_id=w.project_id),
            f"added task “{w.task_title}”",
            **on_story,
        ),
        Sample(
            ev.TASK_DETAILS_CHANGED,
            p.TaskDetailsChanged(**task, old={"link": None}, new={"link": "https://x.example"}),
            f"changed the link of task “{w.task_title}”",
            **on_story,
        ),
        Sample(
            ev.TASK_STATUS_CHANGED,
            p.TaskStatusChanged(**task, old_status="todo", new_status="review"),
            f"changed the status of task “{w.task_title}” from Todo to Review",
            **on_story,
        ),
        Sample(
            ev.TASK_PRIORITY_CHANGED,
            p.TaskPriorityChanged(**task, old_priority="medium", new_priority="high"),
            f"changed the priority of task “{w.task_title}” from medium to high",
            **on_story,
        ),
        Sample(
            ev.TASK_ASSIGNEE_CHANGED,
            p.TaskAssigneeChanged(**task, old_assignee_id=None, new_assignee_id=w.user_id),
            f"assigned task “{w.task_title}” to {w.user_name}",
            **on_story,
        ),
        Sample(
            ev.TASK_DELETED,
            p.TaskDeleted(task_id=w.task_id + 1000, task_title="Gone task"),
            "deleted task “Gone task”",
            **on_story,
        ),
        Sample(
            ev.STORY_LINK_ADDED,
            p.StoryLinkChanged(**link),
            f"linked story {w.other_story_id} “{w.other_story_title}” (blocks)",
            **on_story,
        ),
        Sample(
            ev.STORY_LINK_REMOVED,
            p.StoryLinkChanged(**link),
            f"unlinked story {w.other_story_id} “{w.other_story_title}” (blocks)",
            **on_story,
        ),
        Sample(
            ev.FREEZE_EXCEPTION_REQUESTED,
            p.FreezeException(**ffe),
            "requested the feature freeze exception for openstack/nova in icehouse",
            **on_story,
        ),
        Sample(
            ev.FREEZE_EXCEPTION_WITHDRAWN,
            p.FreezeException(**ffe),
            "withdrew the request for the feature freeze exception for openstack/nova",
            **on_story,
        ),
        Sample(
            ev.FREEZE_EXCEPTION_COMMENTED,
            p.FreezeExceptionCommented(**ffe, advice="grant"),
            "advised to grant the feature freeze exception",
            **on_story,
        ),
        Sample(
            ev.FREEZE_EXCEPTION_DECIDED,
            p.FreezeExceptionDecided(
                **ffe, decision="granted", reason="Small", deadline="2014-03-20", deferred_to=None
            ),
            "granted the feature freeze exception for openstack/nova in icehouse, to merge by",
            **on_story,
        ),
        Sample(
            ev.FREEZE_EXCEPTION_DEFERRED,
            p.FreezeExceptionDeferred(**ffe, deferred_to="juno"),
            "deferred the feature to juno",
            **on_story,
        ),
        Sample(
            ev.WORKLIST_CREATED,
            p.WorklistCreated(worklist_id=w.worklist_id, worklist_title=w.worklist_title),
            "created the worklist",
            worklist_id=w.worklist_id,
        ),
        Sample(
            ev.WORKLIST_DETAILS_CHANGED,
            p.WorklistDetailsChanged(
                worklist_id=w.worklist_id,
                worklist_title=w.worklist_title,
                field="title",
                old_value="Old list",
                new_value=w.worklist_title,
            ),
            f"renamed the worklist from “Old list” to “{w.worklist_title}”",
            worklist_id=w.worklist_id,
        ),
        Sample(
            ev.WORKLIST_PERMISSION_CREATED,
            p.WorklistPermissionCreated(
                worklist_id=w.worklist_id, codename="move_items", users=[w.user_id]
            ),
            f"let {w.user_name} move items in the worklist",
            worklist_id=w.worklist_id,
        ),
        Sample(
            ev.WORKLIST_PERMISSIONS_CHANGED,
            p.WorklistPermissionsChanged(
                worklist_id=w.worklist_id, codename="edit_worklist", added=[w.user_id], removed=[]
            ),
            f"changed who may edit the worklist: added {w.user_name}",
            worklist_id=w.worklist_id,
        ),
        Sample(
            ev.WORKLIST_FILTERS_CHANGED,
            p.WorklistFiltersChanged(
                worklist_id=w.worklist_id, added={"type": "Story", "filter_criteria": []}
            ),
            "added a filter to the worklist",
            worklist_id=w.worklist_id,
        ),
        Sample(
            ev.WORKLIST_CONTENTS_CHANGED,
            p.WorklistContentsChanged(worklist_id=w.worklist_id, added={**item, "position": 0}),
            f"added story “{w.other_story_title}” to the worklist",
            worklist_id=w.worklist_id,
        ),
        Sample(
            ev.BOARD_CREATED,
            p.BoardCreated(board_id=w.board_id, board_title=w.board_title),
            "created the board",
            board_id=w.board_id,
        ),
        Sample(
            ev.BOARD_DETAILS_CHANGED,
            p.BoardDetailsChanged(
                board_id=w.board_id,
                board_title=w.board_title,
                field="archived",
                old_value=False,
                new_value=True,
            ),
            "archived the board",
            board_id=w.board_id,
        ),
        Sample(
            ev.BOARD_PERMISSION_CREATED,
            p.BoardPermissionCreated(board_id=w.board_id, codename="move_cards", users=[w.user_id]),
            f"let {w.user_name} move cards on the board",
            board_id=w.board_id,
        ),
        Sample(
            ev.BOARD_PERMISSIONS_CHANGED,
            p.BoardPermissionsChanged(
                board_id=w.board_id, codename="move_cards", added=[], removed=[w.user_id]
            ),
            f"changed who may move cards on the board: removed {w.user_name}",
            board_id=w.board_id,
        ),
        Sample(
            ev.BOARD_LANES_CHANGED,
            p.BoardLanesChanged(
                board_id=w.board_id, old=[], new=[{"list_id": w.worklist_id, "position": 0}]
            ),
            "added 1 lane to the board",
            board_id=w.board_id,
        ),
    ]


# A world for tests that need no database: ids and names only.
PLAIN = World(
    story_id=10,
    story_title="Frobnicator crashes",
    other_story_id=11,
    other_story_title="Frobnicator leaks",
    task_id=20,
    task_title="Fix boot",
    project_id=30,
    comment_id=40,
    worklist_id=50,
    worklist_title="Triage",
    board_id=60,
    board_title="Release",
    user_id=70,
    user_name="Ada Lovelace",
)
