"""A few rows as people write them, merged over generated rows (rows.py) at
whatever revision a test starts from: a project, a user with an accented
name, a public bug report with a task, a comment and a tag. Keys a table does
not have at that revision are left out. The ids start at 1001, clear of the
generated rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import MetaData

WHEN = dt.datetime(2025, 11, 3, 14, 15, 16, 789000)
STORY_ID = 1001
SEARCH_WORD = "hypervisor"

ROWS: dict[str, list[dict[str, Any]]] = {
    "users": [
        {
            "id": 1001,
            "full_name": "Zoë Ångström-O'Brien",
            "email": "zoe@example.org",
            "is_active": True,
            "is_superuser": False,
            "created_at": WHEN,
        }
    ],
    "projects": [
        {
            "id": 1001,
            "name": "openstack/nova",
            "description": "Compute: virtual machines on demand.\n\nSee <https://opendev.org>.",
            "is_active": True,
            "created_at": WHEN,
        }
    ],
    "stories": [
        {
            "id": STORY_ID,
            "title": f"Resize fails when the {SEARCH_WORD} reports 0 MB free",
            "description": "Steps:\n\n1. `nova resize vm1 m1.large`\n2. 💥\n\n"
            "Expected: the resize **succeeds**.",
            "is_bug": True,
            "creator_id": 1001,
            "story_type_id": 1,
            "private": False,
            "security": False,
            "status": "active",
            "todo_count": 1,
            "inprogress_count": 0,
            "review_count": 0,
            "merged_count": 0,
            "invalid_count": 0,
            "created_at": WHEN,
            "updated_at": None,
        }
    ],
    "tasks": [
        {
            "id": 1001,
            "title": "Check free memory before resizing",
            "status": "todo",
            "priority": "high",
            "story_id": STORY_ID,
            "project_id": 1001,
            "assignee_id": 1001,
            "creator_id": 1001,
            "branch_id": None,
            "milestone_id": None,
            "link": None,
            "created_at": WHEN,
        }
    ],
    "comments": [
        {
            "id": 1001,
            "content": "Same on Zed — see https://review.opendev.org/c/12345 (LGTM).",
            "is_active": True,
            "story_id": STORY_ID,
            "author_id": 1001,
            "in_reply_to": None,
            "created_at": WHEN,
        }
    ],
    "tags": [{"id": 1001, "name": "low-hanging-fruit", "created_at": WHEN}],
    "story_tags": [{"story_id": STORY_ID, "tag_id": 1001}],
}


def rows_for(metadata: MetaData) -> dict[str, list[dict[str, Any]]]:
    """The hand-written rows, cut down to the tables and columns metadata has."""
    found = {}
    for name, rows in ROWS.items():
        table = metadata.tables.get(name)
        if table is None:
            continue
        found[name] = [{k: v for k, v in row.items() if k in table.c} for row in rows]
    return found
