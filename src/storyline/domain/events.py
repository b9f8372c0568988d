"""Timeline event types (StoryBoard's names, plus Storyline's own)."""

from __future__ import annotations

from typing import Final

STORY_CREATED: Final = "story_created"
STORY_DETAILS_CHANGED: Final = "story_details_changed"
STORY_PRIVACY_CHANGED: Final = "story_privacy_changed"
TAGS_ADDED: Final = "tags_added"
TAGS_REMOVED: Final = "tags_removed"
TASK_CREATED: Final = "task_created"
TASK_DETAILS_CHANGED: Final = "task_details_changed"
TASK_STATUS_CHANGED: Final = "task_status_changed"
TASK_PRIORITY_CHANGED: Final = "task_priority_changed"
TASK_ASSIGNEE_CHANGED: Final = "task_assignee_changed"
TASK_DELETED: Final = "task_deleted"
USER_COMMENT: Final = "user_comment"
COMMENT_EDITED: Final = "comment_edited"
# Storyline's own: links between stories (blocks, depends on, duplicates, relates).
STORY_LINK_ADDED: Final = "story_link_added"
STORY_LINK_REMOVED: Final = "story_link_removed"
WORKLIST_CREATED: Final = "worklist_created"
WORKLIST_DETAILS_CHANGED: Final = "worklist_details_changed"
WORKLIST_PERMISSION_CREATED: Final = "worklist_permission_created"
WORKLIST_PERMISSIONS_CHANGED: Final = "worklist_permissions_changed"
WORKLIST_FILTERS_CHANGED: Final = "worklist_filters_changed"
WORKLIST_CONTENTS_CHANGED: Final = "worklist_contents_changed"
BOARD_CREATED: Final = "board_created"
BOARD_DETAILS_CHANGED: Final = "board_details_changed"
BOARD_PERMISSION_CREATED: Final = "board_permission_created"
BOARD_PERMISSIONS_CHANGED: Final = "board_permissions_changed"
BOARD_LANES_CHANGED: Final = "board_lanes_changed"

ALL: Final = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
