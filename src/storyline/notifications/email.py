"""Rendering and sending notification emails.

One email per change, threaded per story (every email about a story answers
the same root Message-ID, so mail clients group them), in plain text and
HTML, with a one-click unsubscribe link (RFC 8058); and a daily digest.
Message-IDs are derived from the outbox row, so a retried email carries the
same Message-ID as the attempt that may already have arrived.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.config import Settings
from storyline.kernel.access import Actor
from storyline.kernel.models import Event
from storyline.notifications import describing
from storyline.notifications.feed import is_still_visible
from storyline.notifications.models import SubscriptionEvent
from storyline.tracker.models import Comment

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
    actor = Actor(user_id=user.id, is_superuser=user.is_superuser)
    if not is_still_visible(session, feed):
        raise Undeliverable("the recipient may no longer see what changed")
    (feed,) = describing.as_read(session, actor=actor, rows=[feed])
    names = describing.load_names(session, actor=actor, rows=[feed])
    subject = describing.subject_of(session, feed)
    domain = _domain(settings)
    line = f"{describing.sentence(feed, names)}."
    if subject is None:
        # Nothing to thread under (the worklist or board is gone): the
        # subject says what happened instead.
        title, link, thread = line.removesuffix("."), base_url(settings), None
    else:
        title = subject.heading
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


def render_notice(
    session: Session,
    settings: Settings,
    *,
    key: str,
    recipient_id: int | None,
    payload: dict[str, Any],
) -> Rendered:
    """A notice another subsystem wrote whole (an election opening): its
    subject, its lines and the page it is about, told as they are."""
    notice = payload.get("notice")
    if not isinstance(notice, dict):
        raise Undeliverable("the notice has no content")
    user = _recipient(session, recipient_id)
    domain = _domain(settings)
    link = base_url(settings) + str(notice.get("path", "/"))
    lines = [str(line) for line in notice.get("lines", [])]
    msg = _envelope(
        settings,
        to=user,
        subject=f"[Storyline] {notice.get('subject', '')}",
        message_id=f"<storyline.{key}@{domain}>",
        key=key,
    )
    if notice.get("thread"):
        thread = f"<storyline.{notice['thread']}@{domain}>"
        msg["In-Reply-To"] = thread
        msg["References"] = thread
    footer = "You receive this because you follow it; you can stop following it on its page."
    msg.set_content("\n".join([*lines, "", f"View it: {link}", "", "--", footer]))
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    msg.add_alternative(
        "<!doctype html><html><body>"
        f'{body}<p><a href="{html.escape(link)}">View it in Storyline</a></p>'
        f'<hr><p style="font-size:small">{html.escape(footer)}</p></body></html>',
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
    actor = Actor(user_id=user.id, is_superuser=user.is_superuser)
    visible = describing.as_read(
        session,
        actor=actor,
        rows=[
            row for row in feed if row.subscriber_id == user.id and is_still_visible(session, row)
        ],
    )
    names = describing.load_names(session, actor=actor, rows=visible)
    subjects = describing.load_subjects(session, visible)
    groups: dict[str, list[str]] = {}
    links: dict[str, str] = {}
    for row in visible:
        key_of = describing.subject_key(row)
        subject = subjects.get(key_of) if key_of is not None else None
        heading = subject.heading if subject else "Other changes"
        if subject:
            links[heading] = base_url(settings) + subject.path
        groups.setdefault(heading, []).append(f"{describing.sentence(row, names)}.")
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
