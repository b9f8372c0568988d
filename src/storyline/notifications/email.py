"""Rendering and sending notification emails.

One email per change, threaded per story (every email about a story answers
the same root Message-ID, so mail clients group them), in plain text and
HTML, with a one-click unsubscribe link (RFC 8058); and a daily digest.
Message-IDs are derived from the outbox row, so a retried email carries the
same Message-ID as the attempt that may already have arrived.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.config import Settings
from storyline.kernel.models import Event
from storyline.lists.models import Board, Worklist
from storyline.notifications.feed import is_still_visible
from storyline.notifications.models import SubscriptionEvent
from storyline.tracker.models import Comment, Story

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Undeliverable(Exception):
    """Retrying will not help (no address, the reader lost access)."""


class NothingToSend(Exception):
    """The message no longer applies (the feed row was deleted)."""


@dataclass(frozen=True)
class Rendered:
    message: EmailMessage
    to: str


def base_url(settings: Settings) -> str:
    return settings.public_url or DEFAULT_BASE_URL


def _domain(settings: Settings) -> str:
    address = parseaddr(settings.smtp_from)[1]
    return address.rsplit("@", 1)[1] if "@" in address else "storyline.localhost"


def _name(user: User | None) -> str:
    if user is None:
        return "Someone"
    return user.full_name or f"User {user.id}"


def describe(event_type: str, info: dict[str, Any]) -> str:
    """One line saying what happened, for emails and digests."""
    task = info.get("task_title")
    simple = {
        "story_created": "created the story",
        "story_details_changed": "changed the story's details",
        "story_privacy_changed": "changed who may see the story",
        "tags_added": f"added tags {', '.join(map(str, info.get('tags', [])))}".rstrip(),
        "tags_removed": f"removed tags {', '.join(map(str, info.get('tags', [])))}".rstrip(),
        "task_created": f"added the task \u201c{task}\u201d",
        "task_deleted": f"deleted the task \u201c{task}\u201d",
        "task_details_changed": f"changed the task \u201c{task}\u201d",
        "user_comment": "commented",
        "comment_edited": "edited a comment",
        "worklist_created": "created the worklist",
        "worklist_details_changed": "changed the worklist's details",
        "worklist_permission_created": "changed the worklist's permissions",
        "worklist_permissions_changed": "changed the worklist's permissions",
        "worklist_filters_changed": "changed the worklist's filters",
        "worklist_contents_changed": "changed the worklist's contents",
        "board_created": "created the board",
        "board_details_changed": "changed the board's details",
        "board_permission_created": "changed the board's permissions",
        "board_permissions_changed": "changed the board's permissions",
        "board_lanes_changed": "changed the board's lanes",
    }
    if event_type == "task_status_changed":
        return (
            f"changed the status of \u201c{task}\u201d from "
            f"{info.get('old_status')} to {info.get('new_status')}"
        )
    if event_type == "task_priority_changed":
        return (
            f"changed the priority of \u201c{task}\u201d from "
            f"{info.get('old_priority')} to {info.get('new_priority')}"
        )
    if event_type == "task_assignee_changed":
        return f"changed who is assigned to \u201c{task}\u201d"
    return simple.get(event_type, event_type.replace("_", " "))


@dataclass(frozen=True)
class Subject:
    kind: str
    id: int
    title: str
    path: str


def _subject_of(session: Session, feed: SubscriptionEvent, info: dict[str, Any]) -> Subject | None:
    if feed.story_id is not None:
        story = session.get(Story, feed.story_id)
        if story is None:
            return None
        return Subject("story", story.id, story.title, f"/stories/{story.id}")
    if isinstance(info.get("worklist_id"), int):
        worklist = session.get(Worklist, info["worklist_id"])
        if worklist is not None:
            return Subject("worklist", worklist.id, worklist.title, f"/worklists/{worklist.id}")
    if isinstance(info.get("board_id"), int):
        board = session.get(Board, info["board_id"])
        if board is not None:
            return Subject("board", board.id, board.title, f"/boards/{board.id}")
    return None


def _comment_text(session: Session, feed: SubscriptionEvent) -> str | None:
    event = session.get(Event, feed.event_id) if feed.event_id is not None else None
    if event is None or event.comment_id is None:
        return None
    comment = session.get(Comment, event.comment_id)
    return comment.content if comment is not None else None


def _recipient(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.email or not user.is_active:
        raise Undeliverable("the recipient has no email address or is no longer active")
    return user


def _envelope(
    settings: Settings, *, to: User, subject: str, message_id: str, key: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to.email
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Storyline-Idempotency-Key"] = key
    return msg


def _add_unsubscribe(msg: EmailMessage, settings: Settings, token: str) -> str:
    link = f"{base_url(settings)}/v1/unsubscribe/{token}"
    msg["List-Unsubscribe"] = f"<{link}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return link


def render_event(
    session: Session,
    settings: Settings,
    *,
    key: str,
    recipient_id: int | None,
    payload: dict[str, Any],
) -> Rendered:
    feed = session.get(SubscriptionEvent, payload.get("subscription_event_id"))
    if feed is None:
        raise NothingToSend("the notification was deleted before it was sent")
    user = _recipient(session, recipient_id)
    if not is_still_visible(session, feed):
        raise Undeliverable("the recipient may no longer see what changed")
    info = json.loads(feed.event_info) if feed.event_info else {}
    author = session.get(User, feed.author_id) if feed.author_id is not None else None
    subject = _subject_of(session, feed, info)
    domain = _domain(settings)
    what = describe(feed.event_type, info)
    if subject is None:
        title, link, thread = "Storyline", base_url(settings), None
    else:
        title = f"{subject.title} ({subject.kind} #{subject.id})"
        link = base_url(settings) + subject.path
        thread = f"<storyline.{subject.kind}-{subject.id}@{domain}>"
    msg = _envelope(
        settings,
        to=user,
        subject=f"[Storyline] {title}",
        message_id=f"<storyline.event-{feed.id}@{domain}>",
        key=key,
    )
    if thread is not None:
        # Every email about one story answers the same (virtual) root message.
        msg["In-Reply-To"] = thread
        msg["References"] = thread
    unsubscribe = _add_unsubscribe(msg, settings, str(payload.get("unsubscribe_token", "")))
    line = f"{_name(author)} {what}."
    comment = _comment_text(session, feed)
    text = [line, ""]
    if comment:
        text += [comment, ""]
    text += [
        f"View it: {link}",
        "",
        "--",
        "You receive this because you are subscribed.",
        f"Unsubscribe: {unsubscribe}",
    ]
    msg.set_content("\n".join(text))
    body = f"<p>{html.escape(line)}</p>"
    if comment:
        body += f"<blockquote>{html.escape(comment)}</blockquote>"
    msg.add_alternative(
        "<!doctype html><html><body>"
        f'{body}<p><a href="{html.escape(link)}">View it in Storyline</a></p>'
        '<hr><p style="font-size:small">You receive this because you are subscribed. '
        f'<a href="{html.escape(unsubscribe)}">Unsubscribe</a></p></body></html>',
        subtype="html",
    )
    return Rendered(message=msg, to=str(user.email))


def render_digest(
    session: Session,
    settings: Settings,
    *,
    key: str,
    recipient_id: int | None,
    payload: dict[str, Any],
) -> Rendered:
    user = _recipient(session, recipient_id)
    ids = [int(i) for i in payload.get("subscription_event_ids", [])]
    feed = session.scalars(
        select(SubscriptionEvent)
        .where(SubscriptionEvent.id.in_(ids))
        .order_by(SubscriptionEvent.id)
    ).all()
    authors = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({f.author_id for f in feed if f.author_id}))
        )
    }
    groups: dict[str, list[str]] = {}
    links: dict[str, str] = {}
    for row in feed:
        if row.subscriber_id != user.id or not is_still_visible(session, row):
            continue
        info = json.loads(row.event_info) if row.event_info else {}
        subject = _subject_of(session, row, info)
        heading = f"{subject.title} ({subject.kind} #{subject.id})" if subject else "Other changes"
        if subject:
            links[heading] = base_url(settings) + subject.path
        groups.setdefault(heading, []).append(
            f"{_name(authors.get(row.author_id or 0))} {describe(row.event_type, info)}."
        )
    if not groups:
        raise NothingToSend("nothing in the digest is visible to its reader any more")
    count = sum(len(lines) for lines in groups.values())
    date = str(payload.get("date", ""))
    msg = _envelope(
        settings,
        to=user,
        subject=f"[Storyline] Daily digest for {date}: {count} change{'s' if count != 1 else ''}",
        message_id=f"<storyline.digest-{user.id}-{date}@{_domain(settings)}>",
        key=key,
    )
    unsubscribe = _add_unsubscribe(msg, settings, str(payload.get("unsubscribe_token", "")))
    text: list[str] = []
    body: list[str] = []
    for heading, lines in groups.items():
        text.append(heading)
        text += [f"  - {line}" for line in lines]
        if heading in links:
            text.append(f"  {links[heading]}")
        text.append("")
        body.append(f"<h2>{html.escape(heading)}</h2><ul>")
        body += [f"<li>{html.escape(line)}</li>" for line in lines]
        body.append("</ul>")
    text += ["--", f"Stop these emails: {unsubscribe}"]
    msg.set_content("\n".join(text))
    msg.add_alternative(
        "<!doctype html><html><body>"
        + "".join(body)
        + f'<hr><p style="font-size:small"><a href="{html.escape(unsubscribe)}">'
        "Stop these emails</a></p></body></html>",
        subtype="html",
    )
    return Rendered(message=msg, to=str(user.email))
