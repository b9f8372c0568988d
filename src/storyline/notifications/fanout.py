"""Who is told about which change, decided in one place.

`timeline.record` calls `on_event` for every timeline event, in the same
transaction. From the event it finds the subscriptions that cover it (the
story, the task, the story's projects and their groups; a worklist and the
boards it is a lane of; a board), leaves out the author and anyone who may
not see the thing that changed, and writes for each remaining subscriber:

- a row in their feed (`subscription_events`);
- an email in the outbox, when they asked for an email per change
  (`plugin_email_enable` on and `plugin_email_digest` off);

and an outbox row per matching webhook of the projects and groups. Digest
readers get their feed rows gathered into one email a day by
`enqueue_due_digests`, which the worker runs.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from storyline.accounts import preferences
from storyline.accounts.models import User, UserPreference
from storyline.accounts.preferences import set_preferences
from storyline.kernel import outbox
from storyline.kernel.access import ANONYMOUS, Actor, can_see, readers
from storyline.kernel.db import PREPARED
from storyline.kernel.models import Event, Subscription
from storyline.lists.models import Board, BoardLane, Worklist
from storyline.notifications import describing
from storyline.notifications.models import DigestState, SubscriptionEvent, UnsubscribeToken, Webhook
from storyline.tracker.models import Story, Task, project_group_mapping

# Preference keys, StoryBoard's names.
EMAIL_ENABLE = "plugin_email_enable"
EMAIL_DIGEST = "plugin_email_digest"
# "HH:MM" in UTC; the digest goes out at the first worker pass after it.
EMAIL_DIGEST_TIME = "plugin_email_digest_time"
DEFAULT_DIGEST_TIME = dt.time(7, 0)

# Which subscription a notification is attributed to (and so which one the
# email's unsubscribe link ends), most specific first.
_TARGET_ORDER = ("story", "task", "worklist", "board", "project", "project_group")


def truthy(value: Any) -> bool:
    """A preference read as a yes/no: JSON booleans, and the strings and
    numbers StoryBoard's clients stored."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return False


def email_modes(session: Session, *, user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's "off", "each" (an email per change) or "digest" (one a
    day), in one query however many subscribers an event has."""
    ids = list(user_ids)
    prefs = preferences.values_of(session, user_ids=ids, keys=(EMAIL_ENABLE, EMAIL_DIGEST))
    modes: dict[int, str] = {}
    for user_id in ids:
        mine = prefs.get(user_id, {})
        if not truthy(mine.get(EMAIL_ENABLE, False)):
            modes[user_id] = "off"
        else:
            modes[user_id] = "digest" if truthy(mine.get(EMAIL_DIGEST, False)) else "each"
    return modes


def _groups_of(session: Session, projects: Iterable[int]) -> set[int]:
    return set(
        session.scalars(
            select(project_group_mapping.c.project_group_id).where(
                project_group_mapping.c.project_id.in_(list(projects))
            )
        )
    )


# Statements every write runs: built once (building one cost about as much
# as running it), and prepared on PostgreSQL (index probes whatever the
# values; planning was a third of each one's time).
_STORY_PROJECTS = (
    select(Task.project_id, project_group_mapping.c.project_group_id)
    .outerjoin(project_group_mapping, project_group_mapping.c.project_id == Task.project_id)
    .where(Task.story_id == bindparam("story_id"))
    .distinct()
    .execution_options(**{PREPARED: True})
)
_WEBHOOKS = (
    select(Webhook)
    .where(
        Webhook.active.is_(True),
        or_(
            Webhook.project_id.in_(bindparam("projects", expanding=True)),
            Webhook.project_group_id.in_(bindparam("groups", expanding=True)),
        ),
    )
    .order_by(Webhook.id)
    .execution_options(**{PREPARED: True})
)


def _story_targets(
    session: Session, story_id: int, info: dict[str, Any]
) -> tuple[list[tuple[str, int]], list[int], list[int]]:
    # The story's projects and their groups in one statement: every write
    # to a story fans out, and each statement here is one on every write.
    rows = session.execute(_STORY_PROJECTS, {"story_id": story_id}).all()
    projects = {project for project, _group in rows}
    groups = {group for _project, group in rows if group is not None}
    # A project the story has no task in any more (a task moved or deleted).
    named = info.get("project_id")
    if isinstance(named, int) and named not in projects:
        projects.add(named)
        groups |= _groups_of(session, [named])
    targets = [("story", story_id)]
    if isinstance(info.get("task_id"), int):
        targets.append(("task", info["task_id"]))
    targets += [("project", pid) for pid in sorted(projects)]
    targets += [("project_group", gid) for gid in sorted(groups)]
    return targets, sorted(projects), sorted(groups)


@functools.cache
def _subscribers_of(kinds: tuple[str, ...]) -> Select[int, str, int]:
    """The active subscribers to targets of these kinds, the ids of each kind
    bound as `<kind>_ids`: built once per combination of kinds."""
    return (
        select(Subscription.user_id, Subscription.target_type, Subscription.target_id)
        .join(User, User.id == Subscription.user_id)
        .where(
            User.is_active.is_(True),
            # One OR branch per kind, not a row-value IN: SQLite answers the
            # IN form with a scan of every subscription, this form with index
            # probes (1 ms to 0.01 ms at tier S).
            or_(
                *(
                    and_(
                        Subscription.target_type == kind,
                        Subscription.target_id.in_(bindparam(f"{kind}_ids", expanding=True)),
                    )
                    for kind in kinds
                )
            ),
        )
        .execution_options(**{PREPARED: True})
    )


def on_event(session: Session, event: Event) -> None:
    """Notify the subscribers of what `event` describes (see the module doc)."""
    info = describing.info_of(event)
    targets: list[tuple[str, int]] = []
    projects: list[int] = []
    groups: list[int] = []
    if event.story_id is not None:
        if session.get(Story, event.story_id) is None:
            return
        targets, projects, groups = _story_targets(session, event.story_id, info)
    elif event.worklist_id is not None:
        worklist = session.get(Worklist, event.worklist_id)
        if worklist is None:
            return
        board_ids = sorted(
            session.scalars(select(BoardLane.board_id).where(BoardLane.list_id == worklist.id))
        )
        targets = [("worklist", worklist.id)] + [("board", bid) for bid in board_ids]
        if worklist.project_id is not None:
            projects = [worklist.project_id]
            groups = sorted(_groups_of(session, projects))
    elif event.board_id is not None:
        board = session.get(Board, event.board_id)
        if board is None:
            return
        targets = [("board", board.id)]
        if board.project_id is not None:
            projects = [board.project_id]
            groups = sorted(_groups_of(session, projects))
    else:
        return

    subscribed: dict[int, tuple[str, int]] = {}
    ids_by_kind: dict[str, list[int]] = {}
    for kind, target in targets:
        ids_by_kind.setdefault(kind, []).append(target)
    rows = session.execute(
        _subscribers_of(tuple(ids_by_kind)),
        {f"{kind}_ids": ids for kind, ids in ids_by_kind.items()},
    ).all()
    rank = {kind: index for index, kind in enumerate(_TARGET_ORDER)}
    for user_id, target_type, target_id in sorted(rows, key=lambda r: rank.get(r[1], 99)):
        subscribed.setdefault(user_id, (target_type, target_id))
    # The author of a change is not told about it.
    if event.author_id is not None:
        subscribed.pop(event.author_id, None)
    if subscribed:
        _notify(session, event, subscribed)
    _enqueue_webhooks(session, event=event, info=info, projects=projects, groups=groups)


def _notify(session: Session, event: Event, subscribed: dict[int, tuple[str, int]]) -> None:
    """Feed rows, and emails for those who want one each, for the (active)
    subscribers of what `event` describes."""
    # Only those who may see what changed are told (the gate's rule).
    users = readers(session, kind="event", object_id=event.id, users=subscribed)
    if not users:
        return
    feeds = {
        user_id: SubscriptionEvent(
            subscriber_id=user_id,
            author_id=event.author_id,
            event_type=event.event_type,
            event_info=event.event_info,
            event_id=event.id,
            story_id=event.story_id,
        )
        for user_id in sorted(users)
    }
    # One flush for every subscriber's row (the email keys need their ids),
    # and one query for everyone's email preferences.
    session.add_all(feeds.values())
    session.flush()
    modes = email_modes(session, user_ids=feeds)
    for user_id, feed in feeds.items():
        if modes[user_id] == "each":
            target_type, target_id = subscribed[user_id]
            outbox.enqueue(
                session,
                kind="email",
                key=f"email:{feed.id}",
                recipient_id=user_id,
                payload={
                    "subscription_event_id": feed.id,
                    "unsubscribe_token": unsubscribe_token(
                        session, user_id=user_id, target_type=target_type, target_id=target_id
                    ),
                    "target": {"type": target_type, "id": target_id},
                },
            )


def _enqueue_webhooks(
    session: Session,
    *,
    event: Event,
    info: dict[str, Any],
    projects: Sequence[int],
    groups: Sequence[int],
) -> None:
    if not projects and not groups:
        return
    hooks = session.scalars(_WEBHOOKS, {"projects": list(projects), "groups": list(groups)}).all()
    # Webhooks are public: they carry only what anyone may see. (Asked only
    # when there is a hook to call: most changes have none.)
    if not hooks or not can_see(session, actor=ANONYMOUS, kind="event", object_id=event.id):
        return
    summary: str | None = None
    # Told as anyone would see it: webhooks are public, so what the event
    # names that is private (a story on a public list) is blanked.
    (shown,) = describing.as_read(session, actor=ANONYMOUS, rows=[event])
    if shown is not event:
        info = describing.info_of(shown)
    for hook in hooks:
        wanted = [t.strip() for t in hook.event_types.split(",") if t.strip()]
        if wanted and event.event_type not in wanted:
            continue
        if summary is None:
            names = describing.load_names(session, actor=ANONYMOUS, rows=[shown])
            summary = describing.summary(shown, names, describing.subject_of(session, shown))
        key = f"webhook:{hook.id}:event:{event.id}"
        outbox.enqueue(
            session,
            kind="webhook",
            key=key,
            webhook_id=hook.id,
            payload={
                "delivery_id": key,
                "event_type": event.event_type,
                "body": {
                    "delivery_id": key,
                    "event_id": event.id,
                    "event_type": event.event_type,
                    "created_at": event.created_at.isoformat(timespec="seconds")
                    if event.created_at
                    else None,
                    "author_id": event.author_id,
                    "story_id": event.story_id,
                    "worklist_id": event.worklist_id,
                    "board_id": event.board_id,
                    "project_ids": list(projects),
                    "event_info": info,
                    # A sentence for people (chat channels, logs); the
                    # fields above are for programs.
                    "summary": summary,
                },
            },
        )


# Unsubscribe links


def unsubscribe_token(session: Session, *, user_id: int, target_type: str, target_id: int) -> str:
    row = session.scalars(
        select(UnsubscribeToken).where(
            UnsubscribeToken.user_id == user_id,
            UnsubscribeToken.target_type == target_type,
            UnsubscribeToken.target_id == target_id,
        )
    ).one_or_none()
    if row is None:
        row = UnsubscribeToken(
            token=secrets.token_urlsafe(32),
            user_id=user_id,
            target_type=target_type,
            target_id=target_id,
        )
        session.add(row)
        session.flush()
    return row.token


def unsubscribe(session: Session, *, token: str) -> tuple[str, int] | None:
    """End the subscription the token names (the one-click link needs no
    sign-in). Answers the target, or None for an unknown token. Repeating it
    is harmless."""
    row = session.scalars(
        select(UnsubscribeToken).where(UnsubscribeToken.token == token)
    ).one_or_none()
    if row is None:
        return None
    if row.target_type == "email":
        # The digest's link: stop email altogether (the feed stays).
        set_preferences(
            session,
            actor=Actor(user_id=row.user_id, can_write=True),
            user_id=row.user_id,
            changes={EMAIL_ENABLE: False},
        )
        return row.target_type, row.target_id
    session.execute(
        delete(Subscription).where(
            Subscription.user_id == row.user_id,
            Subscription.target_type == row.target_type,
            Subscription.target_id == row.target_id,
        )
    )
    return row.target_type, row.target_id


# Digests


def _digest_time(value: Any) -> dt.time:
    if isinstance(value, str):
        try:
            hours, minutes = value.strip().split(":", 1)
            return dt.time(int(hours), int(minutes))
        except ValueError:
            pass
    return DEFAULT_DIGEST_TIME


def enqueue_due_digests(session: Session, *, now: dt.datetime) -> int:
    """Write a digest email for every digest reader whose time of day has
    come, who had none in the last day, and whose feed has news. The key is
    the user and the day, so two workers never write the same digest twice."""
    readers = set(
        session.scalars(
            select(UserPreference.user_id).where(
                UserPreference.key == EMAIL_DIGEST,
            )
        )
    )
    written = 0
    everyone = preferences.values_of(
        session, user_ids=readers, keys=(EMAIL_ENABLE, EMAIL_DIGEST, EMAIL_DIGEST_TIME)
    )
    for user_id in sorted(readers):
        prefs = everyone.get(user_id, {})
        if not (truthy(prefs.get(EMAIL_ENABLE, False)) and truthy(prefs.get(EMAIL_DIGEST, False))):
            continue
        if now.time() < _digest_time(prefs.get(EMAIL_DIGEST_TIME)):
            continue
        state = session.get(DigestState, user_id)
        recent = state is not None and state.last_sent_at is not None
        if recent and now - state.last_sent_at < dt.timedelta(hours=23):  # type: ignore[union-attr,operator]
            continue
        after = state.last_event_id if state is not None else 0
        event_ids = list(
            session.scalars(
                select(SubscriptionEvent.id)
                .where(
                    and_(
                        SubscriptionEvent.subscriber_id == user_id,
                        SubscriptionEvent.id > after,
                    )
                )
                .order_by(SubscriptionEvent.id)
            )
        )
        if not event_ids:
            continue
        outbox.enqueue(
            session,
            kind="digest",
            key=f"digest:{user_id}:{now.date().isoformat()}",
            recipient_id=user_id,
            payload={
                "subscription_event_ids": event_ids,
                "date": now.date().isoformat(),
                # The digest's link stops email altogether.
                "unsubscribe_token": unsubscribe_token(
                    session, user_id=user_id, target_type="email", target_id=0
                ),
            },
        )
        if state is None:
            state = DigestState(user_id=user_id, last_event_id=0)
            session.add(state)
        state.last_event_id = event_ids[-1]
        state.last_sent_at = now
        written += 1
    session.flush()
    return written
