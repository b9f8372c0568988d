"""search indexes without a pending list

PostgreSQL's GIN indexes take new entries into a pending list by default
(`fastupdate`), merged into the index only by VACUUM or once the list reaches
`gin_pending_list_limit` (4 MB). Every search reads the whole list, and the
planner counts its pages in the index's cost: after 5,000 stories were
written through the API (22,000 writes, each task write rewriting its story's
row) the stories index held 474 pending pages, so a rare word's search read
all 703 pages of the table instead of 8, 8 to 19 ms a statement instead of
0.2. Without the pending list each write updates the index itself.

SQLite's FTS5 tables have no such list: nothing to do there.

Hand-written, and self-contained: it imports no application code.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The GIN indexes of revision 0002.
INDEXES = (
    "ix_stories_search_fts",
    "ix_tasks_search_fts",
    "ix_projects_search_fts",
    "ix_users_search_fts",
    "ix_users_name_search_fts",
    "ix_comments_search_fts",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # Turning it off leaves the entries already pending where they are.
        op.execute(f"SELECT gin_clean_pending_list('{index}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
