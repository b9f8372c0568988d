"""Full-text search: the resource's own filtered query plus one match condition.

Each search reuses the list query of its resource (the same filters, the same
visibility gate) and adds a condition that the database answers from its
full-text index: an FTS5 table on SQLite, a GIN-indexed stored tsvector
column on PostgreSQL (both created by migration 0002). Sorting, paging and
the count are the list's own: one statement for the page and one for the
total, whatever the number of matches (past `COUNT_CAP` matches the total is
an estimate, as for the lists). StoryBoard instead pulled
every candidate id into Python first.

Order: by `sort_field`, `id` ascending unless asked otherwise, as in
StoryBoard. Relevance ranking was left out: every match would have to be
scored before the first page could be cut, so a common word would cost as
much as sorting all matches, and `marker` paging (keyset on the sort column)
could not continue an order that is not a column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from storyline.kernel.access import Actor, acl_story_ids, story_visibility
from storyline.kernel.paging import COUNT_CAP, Page, PageRequest, Total, paginate
from storyline.kernel.search import Searchable, SearchQuery, dialect_of, parse
from storyline.tracker import comments as comment_service
from storyline.tracker import projects as project_service
from storyline.tracker import stories as story_service
from storyline.tracker import tasks as task_service
from storyline.tracker.models import Comment, Project, Story, Task
from storyline.tracker.projects import ProjectFilter
from storyline.tracker.stories import StoryFilter, StoryView
from storyline.tracker.tasks import TaskFilter

# stories_fts also indexes the private flag (see migration 0002), which the
# words people type must not reach.
STORIES = Searchable("stories", Story.id, "stories_fts", fts_columns=("title", "description"))
TASKS = Searchable("tasks", Task.id, "tasks_fts")
PROJECTS = Searchable("projects", Project.id, "projects_fts")
COMMENTS = Searchable("comments", Comment.id, "comments_fts")


def search_stories(
    session: Session, *, actor: Actor, q: str | None, filters: StoryFilter, page: PageRequest
) -> Page[StoryView]:
    """Stories `actor` may see, matching `filters` and, in title or
    description, the query `q`. Private stories the actor may not see are
    neither listed nor counted: the list's visibility clause is part of both
    statements."""
    query = parse(q)
    if dialect_of(session) == "sqlite" and filters == StoryFilter() and page.sort_field == "id":
        return _sqlite_stories_in_index_order(session, actor=actor, query=query, page=page)
    match = STORIES.matches(dialect_of(session), query)
    stmt = story_service.story_query(actor, filters).where(match)
    total = None
    if page.count:
        # The match reads each story's row anyway, so the gate rides along in
        # the same pass: at tier S on PostgreSQL that counted a common word in
        # 11 ms, against 19 for all matches less the hidden private ones.
        matches = select(Story.id).where(
            *story_service.story_conditions(filters), match, story_visibility(actor)
        )
        total, _top = story_service.estimate_total(
            session, actor=actor, matches=matches, visible=True
        )
    result = paginate(
        session, stmt, model=Story, page=page, sortable=story_service.STORY_SORT, total=total
    )
    return replace(result, items=story_service.load_story_views(session, result.items))


def _sqlite_stories_in_index_order(
    session: Session, *, actor: Actor, query: SearchQuery, page: PageRequest
) -> Page[StoryView]:
    """A plain search in id order, driven by the FTS5 index.

    FTS5 hands out matches in rowid (= story id) order, so a page is the
    first matches that pass the visibility gate: no list of every match is
    built. While the stories table is small (`while_small`) the total is the
    index's own count less the hidden private matches (`_fts5_total`);
    beyond, the first `COUNT_CAP` + 1 visible matches are read without
    building the list of every match. They give the total (`estimate_total`:
    counting all of a common word's half a million matches at tier L took 50
    to 500 ms) and, unless the page lies past them, the page.
    """
    fts, match = STORIES.fts5(query)
    descending = page.sort_dir == "desc"
    total: Total | None = None
    stories: Sequence[Story] | None = None
    if page.count:
        top, everything = session.execute(
            select(
                story_service.highest_story_id(),
                story_service.while_small(_fts5_total(actor=actor, query=query)),
            )
        ).one()
        if everything is not None:
            total = Total(everything)
    if page.count and total is None:
        # One pass over the index for the count and, mostly, the page too: a
        # prefix that is not one of the index's own (`network*`) merges the
        # lists of every word it starts before the first match comes out,
        # 40 ms for half a million matches at tier L, however few are read.
        # Visibility is settled without reading a story: the hidden stories
        # are the private ones (an index-only read) less those on the
        # actor's ACL. "rowid + 0" keeps FTS5 from running the query once
        # per id.
        visible = select(fts.c.rowid.label("id")).where(match)
        if not actor.is_superuser:
            hidden = select(Story.id).where(Story.private.is_(True))
            if actor.is_authenticated:
                hidden = hidden.where(Story.id.not_in(acl_story_ids(actor)))
            visible = visible.where((fts.c.rowid + 0).not_in(hidden))
        order = fts.c.rowid.desc() if descending else fts.c.rowid.asc()
        first = visible.order_by(order).limit(COUNT_CAP + 1).subquery()
        # The page's ids, each with the count and bounds of all those read.
        sample = select(
            first.c.id,
            func.count().over().label("read"),
            func.min(first.c.id).over().label("low"),
            func.max(first.c.id).over().label("high"),
        ).subquery()
        stmt = select(sample)
        if page.marker is not None:
            marker = page.marker
            stmt = stmt.where(sample.c.id < marker if descending else sample.c.id > marker)
        stmt = stmt.order_by(sample.c.id.desc() if descending else sample.c.id.asc())
        rows = session.execute(stmt.limit(page.limit).offset(page.offset or 0)).all()
        if rows:
            read, low, high = rows[0].read, rows[0].low, rows[0].high
        else:  # a page past those read, or no match at all
            read, low, high = session.execute(
                select(func.count(), func.min(first.c.id), func.max(first.c.id)).select_from(first)
            ).one()
        total = story_service.total_from_first(
            read=read, low=low, high=high, top=top or 0, descending=descending
        )
        # The page is known when it lies among the matches read.
        if read <= COUNT_CAP or len(rows) == page.limit:
            wanted = [row.id for row in rows]
            by_id = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(wanted)))}
            stories = [by_id[i] for i in wanted if i in by_id]
    if stories is None:
        joined = fts.join(Story, Story.id == fts.c.rowid)
        stmt = select(Story).select_from(joined).where(match, story_visibility(actor))
        if page.marker is not None:
            stmt = stmt.where(
                fts.c.rowid < page.marker if descending else fts.c.rowid > page.marker
            )
        stmt = stmt.order_by(fts.c.rowid.desc() if descending else fts.c.rowid.asc())
        stmt = stmt.limit(page.limit)
        if page.offset:
            stmt = stmt.offset(page.offset)
        stories = session.scalars(stmt).all()
    return Page(
        items=story_service.load_story_views(session, stories),
        total=total.value if total is not None else None,
        request=page,
        total_exact=total.exact if total is not None else True,
    )


def _fts5_total(*, actor: Actor, query: SearchQuery) -> ColumnElement[int]:
    """Every match of `query` less the private ones `actor` may not see, all
    counted by FTS5 itself (in C, without reading a story)."""
    fts, match = STORIES.fts5(query)
    everything = select(func.count()).select_from(fts).where(match).scalar_subquery()
    if actor.is_superuser:
        return everything
    # The index itself knows which matches are private (its `private`
    # column): the hidden ones are those less the few on the actor's ACL.
    # "rowid + 0" keeps FTS5 from running the query once per id.
    private, private_match = STORIES.fts5(query, also="private : 1")
    on_acl = (private.c.rowid + 0).in_(acl_story_ids(actor))
    hidden = select(func.count() - func.count(case((on_acl, 1)))).select_from(private)
    return everything - hidden.where(private_match).scalar_subquery()


def search_tasks(
    session: Session, *, actor: Actor, q: str | None, filters: TaskFilter, page: PageRequest
) -> Page[Task]:
    """Tasks of stories `actor` may see, matching `filters` and, in the title, `q`."""
    query = parse(q)
    stmt = task_service.task_query(actor, filters).where(TASKS.matches(dialect_of(session), query))
    return paginate(session, stmt, model=Task, page=page, sortable=task_service.TASK_SORT)


def search_projects(
    session: Session, *, q: str | None, filters: ProjectFilter, page: PageRequest
) -> Page[Project]:
    query = parse(q)
    stmt = project_service.project_query(filters).where(
        PROJECTS.matches(dialect_of(session), query)
    )
    return paginate(session, stmt, model=Project, page=page, sortable=project_service.PROJECT_SORT)


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
        COMMENTS.matches(dialect_of(session), query)
    )
    return paginate(session, stmt, model=Comment, page=page, sortable=comment_service.COMMENT_SORT)
