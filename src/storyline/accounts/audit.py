"""The audit log: sign-ins, sign-outs, failures and token use.

Written in the same unit of work as what it records, except failures, which
the edge records in a unit of work of their own (the failed one rolls back).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.accounts.models import AuditEvent
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.paging import Page, PageRequest, paginate

LOGIN: Final = "login"
LOGIN_FAILED: Final = "login_failed"
LOGIN_THROTTLED: Final = "login_throttled"
LOGOUT: Final = "logout"
LOGOUT_ALL: Final = "logout_all"
SIGNUP: Final = "signup"
SIGNUP_REFUSED: Final = "signup_refused"
IDENTITY_LINKED: Final = "identity_linked"
IDENTITY_UNLINKED: Final = "identity_unlinked"
PASSWORD_SET: Final = "password_set"
TOKEN_CREATED: Final = "token_created"
TOKEN_REVOKED: Final = "token_revoked"
TOKEN_USED: Final = "token_used"
INVITATION_CREATED: Final = "invitation_created"
# Release management decisions an administrator may need to trace.
FREEZE_EXCEPTION_DECIDED: Final = "freeze_exception_decided"
PROJECT_LEADS_CHANGED: Final = "project_leads_changed"
# A cycle opened, changed or deleted, its schedule or its series changed
# (`details.action` says which), and the stable support policy.
CYCLE_CHANGED: Final = "cycle_changed"
SUPPORT_POLICY_CHANGED: Final = "support_policy_changed"
# An election or poll created, changed, opened, closed or deleted
# (`details.action` says which). Ballots are never in the log.
ELECTION_CHANGED: Final = "election_changed"

ALL: Final = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)

AUDIT_SORT = {"id": AuditEvent.id, "created_at": AuditEvent.created_at}


@dataclass(frozen=True)
class Client:
    """Where a request came from, as far as the edge can tell."""

    ip: str | None = None
    user_agent: str | None = None


NO_CLIENT = Client()


def record(
    session: Session,
    *,
    event_type: str,
    user_id: int | None,
    client: Client = NO_CLIENT,
    **details: Any,
) -> AuditEvent:
    if event_type not in ALL:
        raise ValueError(f"unknown audit event type {event_type!r}")
    event = AuditEvent(
        event_type=event_type,
        user_id=user_id,
        ip=(client.ip or None) and client.ip[:64],
        user_agent=(client.user_agent or None) and client.user_agent[:255],
        details=json.dumps(details, sort_keys=True, default=str) if details else None,
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    user_id: int | None = None
    event_type: str | None = None


def list_events(
    session: Session, *, actor: Actor, filters: AuditFilter, page: PageRequest
) -> Page[AuditEvent]:
    require_superuser(actor)
    stmt = select(AuditEvent)
    if filters.user_id is not None:
        stmt = stmt.where(AuditEvent.user_id == filters.user_id)
    if filters.event_type:
        stmt = stmt.where(AuditEvent.event_type == filters.event_type)
    return paginate(session, stmt, model=AuditEvent, page=page, sortable=AUDIT_SORT)


def details_of(event: AuditEvent) -> dict[str, Any]:
    if not event.details:
        return {}
    loaded: dict[str, Any] = json.loads(event.details)
    return loaded
