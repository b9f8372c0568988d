"""Project leads: who decides a project's freeze exceptions.

A lead holds the `lead` role on a project, or on a project group and so on
each of its projects (`PROJECT_ROLES` inherits from `PROJECT_GROUP_ROLES`).
Anyone may read who leads what; administrators change it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.errors import InvalidInput, NotFound
from storyline.kernel import roles
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.schema import RoleSpec
from storyline.releases.models import PROJECT_GROUP_ROLES, PROJECT_LEAD, PROJECT_ROLES
from storyline.tracker.models import Project, ProjectGroup

# More leads than this is a mistake in the list, not a team.
MAX_LEADS = 50

_KINDS: dict[str, tuple[RoleSpec, type[Project] | type[ProjectGroup]]] = {
    "project": (PROJECT_ROLES, Project),
    "project_group": (PROJECT_GROUP_ROLES, ProjectGroup),
}


def _spec(session: Session, kind: str, object_id: int) -> RoleSpec:
    spec, model = _KINDS[kind]
    if session.get(model, object_id) is None:
        raise NotFound.of(spec.noun, object_id)
    return spec


def leads(session: Session, *, kind: str, object_id: int) -> list[int]:
    """The users granted the lead role on the project (or group) itself."""
    spec = _spec(session, kind, object_id)
    return roles.holders(session, spec, [object_id])[object_id][PROJECT_LEAD]


def set_leads(
    session: Session, *, actor: Actor, kind: str, object_id: int, user_ids: Sequence[int]
) -> list[int]:
    """Make `user_ids` exactly the leads (an empty list leaves decisions to
    the group's leads and the administrators)."""
    user_id = require_superuser(actor)
    spec = _spec(session, kind, object_id)
    if len(user_ids) > MAX_LEADS:
        raise InvalidInput.field("leads", f"at most {MAX_LEADS} leads")
    added, removed = roles.replace(
        session,
        spec,
        object_id=object_id,
        role=PROJECT_LEAD,
        user_ids=user_ids,
        author_id=user_id,
        field="leads",
    )
    if added or removed:
        audit.record(
            session,
            event_type=audit.PROJECT_LEADS_CHANGED,
            user_id=user_id,
            kind=kind,
            object_id=object_id,
            added=added,
            removed=removed,
        )
    return leads(session, kind=kind, object_id=object_id)
