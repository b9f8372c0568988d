"""Full-text search: the resource's own filtered query plus one match condition.

Each search reuses the list query of its resource (the same filters, the same
visibility gate) and adds a condition that the database answers from its
full-text index: an FTS5 table on SQLite, a GIN-indexed stored tsvector
column on PostgreSQL (both created by migration 0002). Sorting, paging and
the count are the list's own (`paginate`): one statement for the page and one
for the total, whatever the number of matches. StoryBoard instead pulled
every candidate id into Python first.

Order: by `sort_field`, `id` ascending unless asked otherwise, as in
StoryBoard. Relevance ranking was left out: every match would have to be
scored before the first page could be cut, so a common word would cost as
much as sorting all matches, and `marker` paging (keyset on the sort column)
could not continue an order that is not a column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, column, func, literal, literal_column, select, table
from sqlalchemy.orm import InstrumentedAttribute, Session

from storyline.db.models import Comment, Project, Story, Task, User
from storyline.services import comments as comment_service
from storyline.services import projects as project_service
from storyline.services import stories as story_service
from storyline.services import tasks as task_service
from storyline.services import users as user_service
from storyline.services.access import Actor
from storyline.services.paging import Page, PageRequest, paginate
from storyline.services.projects import ProjectFilter
from storyline.services.search_query import SearchQuery, parse
from storyline.services.stories import StoryFilter, StoryView
from storyline.services.tasks import TaskFilter
from storyline.services.users import UserFilter

_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class Searchable:
    """A table with a full-text index: on SQLite the FTS5 table that shadows
    it, on PostgreSQL the stored tsvector column (both from migration 0002)."""

    table: str
    id_column: InstrumentedAttribute[int]
    fts_table: str
    pg_column: str = "search_fts"
    # On SQLite: search only these FTS5 columns (None: all of them); it must
    # be the same document as `pg_column`.
    fts_columns: tuple[str, ...] | None = None

    def matches(self, dialect: str, query: SearchQuery) -> ColumnElement[bool]:
        if dialect == "postgresql":
            # Not a model column (see the migration), hence named in SQL.
            vector: ColumnElement[Any] = literal_column(f"{self.table}.{self.pg_column}")
            tsquery = func.to_tsquery(_SIMPLE, literal(query.tsquery()))
            return vector.bool_op("@@")(tsquery)
        expression = query.fts5()
        if self.fts_columns is not None:
            expression = "{" + " ".join(self.fts_columns) + "} : (" + expression + ")"
        fts = table(self.fts_table, column("rowid"))
        hits = select(fts.c.rowid).where(
            literal_column(self.fts_table).bool_op("MATCH")(literal(expression))
        )
        return self.id_column.in_(hits)


STORIES = Searchable("stories", Story.id, "stories_fts")
TASKS = Searchable("tasks", Task.id, "tasks_fts")
PROJECTS = Searchable("projects", Project.id, "projects_fts")
# Email addresses are private (see services/users.py): only administrators
# search them; everyone else searches names alone.
USERS = Searchable("users", User.id, "users_fts")
USER_NAMES = Searchable(
    "users", User.id, "users_fts", pg_column="name_search_fts", fts_columns=("full_name",)
)
COMMENTS = Searchable("comments", Comment.id, "comments_fts")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def search_stories(
    session: Session, *, actor: Actor, q: str | None, filters: StoryFilter, page: PageRequest
) -> Page[StoryView]:
    """Stories `actor` may see, matching `filters` and, in title or
    description, the query `q`. Private stories the actor may not see are
    neither listed nor counted: the list's visibility clause is part of both
    statements."""
    query = parse(q)
    stmt = story_service.story_query(actor, filters).where(
        STORIES.matches(_dialect(session), query)
    )
    result = paginate(session, stmt, model=Story, page=page, sortable=story_service.STORY_SORT)
    views = story_service.load_story_views(session, result.items)
    return Page(items=views, total=result.total, request=page)


def search_tasks(
    session: Session, *, actor: Actor, q: str | None, filters: TaskFilter, page: PageRequest
) -> Page[Task]:
    """Tasks of stories `actor` may see, matching `filters` and, in the title, `q`."""
    query = parse(q)
    stmt = task_service.task_query(actor, filters).where(TASKS.matches(_dialect(session), query))
    return paginate(session, stmt, model=Task, page=page, sortable=task_service.TASK_SORT)


def search_projects(
    session: Session, *, q: str | None, filters: ProjectFilter, page: PageRequest
) -> Page[Project]:
    query = parse(q)
    stmt = project_service.project_query(filters).where(PROJECTS.matches(_dialect(session), query))
    return paginate(session, stmt, model=Project, page=page, sortable=project_service.PROJECT_SORT)


def search_users(
    session: Session, *, actor: Actor, q: str | None, filters: UserFilter, page: PageRequest
) -> Page[User]:
    query = parse(q)
    user_service.check_filters(actor, filters)
    target = USERS if actor.is_superuser else USER_NAMES
    stmt = user_service.user_query(filters).where(target.matches(_dialect(session), query))
    return paginate(session, stmt, model=User, page=page, sortable=user_service.sortable_for(actor))


def search_comments(
    session: Session,
    *,
    actor: Actor,
    q: str | None,
    page: PageRequest,
    story_id: int | None = None,
) -> Page[Comment]:
    """Comments on stories `actor` may see (optionally one story) whose text
    matches `q`. StoryBoard had this search but no route reached it."""
    query = parse(q)
    stmt = comment_service.comment_query(actor, story_id=story_id).where(
        COMMENTS.matches(_dialect(session), query)
    )
    return paginate(session, stmt, model=Comment, page=page, sortable=comment_service.COMMENT_SORT)
