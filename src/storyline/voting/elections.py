"""Elections and polls: writing them, their electorates, opening them.

Administrators create elections and polls; the creator becomes an official
(the election's `official` role) and may name others. Officials change a
draft freely; once voting opens the candidates, the method and the
electorate are fixed (a ballot ranks the candidates as they were), and only
the title, the description, the close and the publication of the results
may still change. Every change is in the audit log; ballots never are.

Reading goes through the gate (`storyline.kernel.access.election_visibility`):
an election is public once it opens, a draft only for its officials.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.accounts.models import User
from storyline.elections import METHODS
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import roles
from storyline.kernel.access import Actor, election_visibility, require_superuser, require_user
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id
from storyline.voting import electorates, notices
from storyline.voting.models import (
    CLOSED,
    DRAFT,
    ELECTION_ROLES,
    KINDS,
    OFFICIAL,
    OPEN,
    Candidate,
    Election,
    Follower,
    Voter,
)

# Limits: a ballot of more candidates cannot be ranked by a person, and a
# longer window is a typo.
MAX_CANDIDATES = 100
MAX_SEATS = 50
MAX_WINDOW_DAYS = 366
PROPORTIONAL_MODES = ("best", "combined")
# Condorcet-IRV's tie rules besides the current one (null).
TIE_RULES = ("pre-2024",)
# Debian's constitution asks at most a 3:1 majority; 10:1 leaves room
# without letting a typo make an option unwinnable.
MAX_MAJORITY = 10

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]

ELECTION_SORT: dict[str, Any] = {
    "id": Election.id,
    "opens_at": Election.opens_at,
    "closes_at": Election.closes_at,
    "title": Election.title,
    "created_at": Election.created_at,
}


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: Name
    # The user the candidate is, if they have an account.
    user_id: Id | None = None
    statement: str | None = Field(default=None, max_length=20_000)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # A time without a zone is ambiguous for a voting window: refuse it
    # rather than guess.
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a time zone (e.g. 2026-12-01T12:00:00Z)")
    return value.astimezone(dt.UTC) if value is not None else None


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Paris") from None
    return value


def _method(value: str | None) -> str | None:
    if value is not None and value not in METHODS:
        raise ValueError(f"must be one of {', '.join(sorted(METHODS))}")
    return value


def _proportional(value: str | None) -> str | None:
    if value is not None and value not in PROPORTIONAL_MODES:
        raise ValueError("must be null, best or combined")
    return value


def _tie_rule(value: str | None) -> str | None:
    if value is not None and value not in TIE_RULES:
        raise ValueError("must be null (the current rule) or pre-2024")
    return value


# Debian's quorum R: a positive, finite number (3/2 of the square root of
# the number of developers, so rarely whole).
Quorum = Annotated[float, Field(gt=0, allow_inf_nan=False)]
# Candidate name -> N, for an N:1 majority over the default option.
Majorities = Annotated[
    dict[Name, Annotated[int, Field(ge=1, le=MAX_MAJORITY)]],
    Field(max_length=MAX_CANDIDATES),
]


class ElectionIn(roles.HoldersIn):
    # Officials besides the creator.
    officials: list[Id] = Field(default_factory=list, max_length=100)

    _officials = field_validator("officials", mode="before")(roles.id_list)

    kind: Literal["election", "poll"] = "election"
    title: Name
    description: str | None = Field(default=None, max_length=20_000)
    method: str = "schulze"
    seats: int = Field(default=1, ge=1, le=MAX_SEATS)
    proportional: str | None = None
    no_opinion: bool = False
    tie_rule: str | None = None
    default_option: Name | None = None
    quorum: Quorum | None = None
    majorities: Majorities | None = None
    candidates: list[CandidateIn] = Field(min_length=2, max_length=MAX_CANDIDATES)
    electorate: electorates.ElectorateIn
    opens_at: dt.datetime
    closes_at: dt.datetime
    timezone: str = Field(default="UTC", max_length=64)
    results_public: bool = True
    live_results: bool = False

    _aware = field_validator("opens_at", "closes_at")(_aware)
    _zone = field_validator("timezone")(_zone)
    _method = field_validator("method")(_method)
    _proportional = field_validator("proportional")(_proportional)
    _tie_rule = field_validator("tie_rule")(_tie_rule)

    @model_validator(mode="after")
    def _consistent(self) -> ElectionIn:
        _check_window(self.opens_at, self.closes_at)
        _check_candidates(self.candidates, self.seats)
        if self.live_results and self.kind != "poll":
            raise ValueError("only polls show live results")
        return self


class ElectionChange(BaseModel):
    """What officials may change; absent fields stay. Once voting has opened,
    only `title`, `description`, `closes_at`, `timezone` and
    `results_public` may change."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: Name | None = None
    description: str | None = Field(default=None, max_length=20_000)
    method: str | None = None
    seats: int | None = Field(default=None, ge=1, le=MAX_SEATS)
    proportional: str | None = None
    no_opinion: bool | None = None
    tie_rule: str | None = None
    default_option: Name | None = None
    quorum: Quorum | None = None
    majorities: Majorities | None = None
    candidates: list[CandidateIn] | None = Field(
        default=None, min_length=2, max_length=MAX_CANDIDATES
    )
    electorate: electorates.ElectorateIn | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    timezone: str | None = Field(default=None, max_length=64)
    results_public: bool | None = None
    live_results: bool | None = None

    _aware = field_validator("opens_at", "closes_at")(_aware)
    _zone = field_validator("timezone")(_zone)
    _method = field_validator("method")(_method)
    _proportional = field_validator("proportional")(_proportional)
    _tie_rule = field_validator("tie_rule")(_tie_rule)


# The fields of the input that are the election's own columns as sent
# (the kind is set once, at creation).
COLUMNS = frozenset(
    {
        "title",
        "description",
        "method",
        "seats",
        "proportional",
        "no_opinion",
        "tie_rule",
        "default_option",
        "quorum",
        "opens_at",
        "closes_at",
        "timezone",
        "results_public",
        "live_results",
    }
)
# Fields that stay writable once voting has opened.
WHILE_OPEN = frozenset({"title", "description", "closes_at", "timezone", "results_public"})
# Fields a change may set to null (the others keep their value when null).
NULLABLE = frozenset({"description", "proportional", "tie_rule", "default_option", "quorum"})


def _check_window(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    if closes_at <= opens_at:
        raise ValueError("closes_at must come after opens_at")
    if closes_at - opens_at > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise ValueError(f"voting lasts at most {MAX_WINDOW_DAYS} days")


def _check_candidates(candidates: Sequence[CandidateIn], seats: int) -> None:
    names = [c.name.casefold() for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError("candidate names must differ")
    if seats >= len(candidates):
        raise ValueError("there must be more candidates than seats")


# The counting options, each taken by one method only.
COUNTING_OPTIONS = {
    "tie_rule": "condorcet-irv",
    "default_option": "debian",
    "quorum": "debian",
    "majorities": "debian",
}


def majorities_of(election: Election) -> dict[str, int] | None:
    return None if election.majorities is None else dict(json.loads(election.majorities))


def _stored_majorities(value: Mapping[str, int] | None) -> str | None:
    # No ratio asked of any option is the default: stored as none.
    return json.dumps(dict(value)) if value else None


def _check_counting(election: Election, names: Sequence[str]) -> None:
    """The election's counting options (already on `election`) fit its
    method and `names`, its candidates. Checked on the election as it will
    be, so that a change of method or of candidates cannot leave an option
    behind that the count would reject or silently ignore."""
    for field, method in COUNTING_OPTIONS.items():
        if getattr(election, field) is not None and election.method != method:
            raise InvalidInput.field(
                field, f"applies to the {method} method only; send null to clear it"
            )
    if election.default_option is not None and election.default_option not in names:
        raise InvalidInput.field(
            "default_option", f"{election.default_option!r} is not one of the candidates"
        )
    default = election.default_option or names[-1]
    for name in majorities_of(election) or {}:
        if name not in names:
            raise InvalidInput.field("majorities", f"{name!r} is not one of the candidates")
        if name == default:
            raise InvalidInput.field(
                "majorities",
                f"{name!r} is the default option, which the majorities are measured against",
            )


# Reading


def get_election(
    session: Session,
    *,
    actor: Actor,
    election_id: int,
    for_update: bool = False,
    lock: Literal["share", "update"] | None = None,
) -> Election:
    """The election, if `actor` may see it; NotFound otherwise (a draft's
    existence is not told to those who may not see it). `lock` takes the
    row's lock in the same statement (PostgreSQL; SQLite's writes are
    serial): "share" for ballots, "update" for what excludes them."""
    stmt = select(Election).where(Election.id == election_id, election_visibility(actor))
    if for_update:
        lock = "update"
    if lock is not None:
        stmt = stmt.with_for_update(read=lock == "share", of=Election).execution_options(
            populate_existing=True
        )
    election = session.scalar(stmt)
    if election is None:
        raise NotFound.of("election", election_id)
    return election


def load_election(
    session: Session, *, actor: Actor, object_id: int, for_update: bool = False
) -> Election:
    """The loader the permission endpoints use."""
    return get_election(session, actor=actor, election_id=object_id, for_update=for_update)


def list_elections(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    state: str | None = None,
    kind: str | None = None,
) -> Page[Election]:
    stmt = select(Election).where(election_visibility(actor))
    if state is not None:
        if state not in (DRAFT, OPEN, CLOSED):
            raise InvalidInput.field("state", "must be draft, open or closed")
        stmt = stmt.where(Election.state == state)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput.field("kind", "must be election or poll")
        stmt = stmt.where(Election.kind == kind)
    return paginate(session, stmt, model=Election, page=page, sortable=ELECTION_SORT)


def candidates(session: Session, election_id: int) -> list[Candidate]:
    return candidates_of(session, [election_id])[election_id]


def candidates_of(session: Session, election_ids: Sequence[int]) -> dict[int, list[Candidate]]:
    """Election id -> its candidates in order, in one query (the lists)."""
    found: dict[int, list[Candidate]] = {eid: [] for eid in election_ids}
    if election_ids:
        for candidate in session.scalars(
            select(Candidate)
            .where(Candidate.election_id.in_(election_ids))
            .order_by(Candidate.election_id, Candidate.position)
        ):
            found[candidate.election_id].append(candidate)
    return found


def positions(session: Session, election_id: int) -> dict[int, int]:
    """Candidate id -> position: what a ballot is written against."""
    return dict(
        session.execute(
            select(Candidate.id, Candidate.position).where(Candidate.election_id == election_id)
        ).all()
    )


def officials(session: Session, election_ids: Sequence[int]) -> dict[int, list[int]]:
    """Election id -> its officials' user ids."""
    held = roles.holders(session, ELECTION_ROLES, election_ids)
    return {eid: held.get(eid, {}).get(OFFICIAL, []) for eid in election_ids}


def is_official(session: Session, actor: Actor, election: Election) -> bool:
    return roles.held(session, ELECTION_ROLES, actor=actor, object_id=election.id, role=OFFICIAL)


def electorate_of(election: Election) -> dict[str, Any]:
    return dict(json.loads(election.electorate))


def voting_is_open(election: Election, now: dt.datetime) -> bool:
    return election.state == OPEN and election.opens_at <= now < election.closes_at


# Writing


def _audit(
    session: Session, user_id: int | None, election: Election, action: str, **details: Any
) -> None:
    audit.record(
        session,
        event_type=audit.ELECTION_CHANGED,
        user_id=user_id,
        election_id=election.id,
        title=election.title,
        action=action,
        **details,
    )


def require_official(session: Session, actor: Actor, election: Election, to: str) -> int:
    return roles.require(
        session, ELECTION_ROLES, actor=actor, object_id=election.id, role=OFFICIAL, to=to
    )


def _write_candidates(session: Session, election: Election, data: Sequence[CandidateIn]) -> None:
    roles.check_users(
        session, [c.user_id for c in data if c.user_id is not None], "candidates.user_id"
    )
    session.execute(delete(Candidate).where(Candidate.election_id == election.id))
    session.flush()
    session.add_all(
        Candidate(
            election_id=election.id,
            position=position,
            name=c.name,
            user_id=c.user_id,
            statement=c.statement,
        )
        for position, c in enumerate(data)
    )


def create_election(session: Session, *, actor: Actor, data: ElectionIn) -> Election:
    """A draft election or poll; its creator is its first official."""
    user_id = require_superuser(actor)
    electorates.check(session, data.electorate)
    election = Election(
        **data.model_dump(include={"kind", *COLUMNS}),
        majorities=_stored_majorities(data.majorities),
        state=DRAFT,
        electorate=data.electorate.model_dump_json(exclude_none=True),
        creator_id=user_id,
    )
    _check_counting(election, [c.name for c in data.candidates])
    session.add(election)
    session.flush()
    _write_candidates(session, election, data.candidates)
    roles.grant_new(session, ELECTION_ROLES, object_id=election.id, creator_id=user_id, data=data)
    _audit(session, user_id, election, "created")
    return election


def update_election(
    session: Session, *, actor: Actor, election: Election, data: ElectionChange
) -> Election:
    user_id = require_official(session, actor, election, "change it")
    sent = data.model_fields_set
    if election.state == CLOSED:
        raise Conflict("The election is closed: it can no longer change.", code="election_closed")
    if election.state == OPEN and sent - WHILE_OPEN:
        fields = ", ".join(sorted(sent - WHILE_OPEN))
        raise Conflict(
            f"Voting has opened: {fields} can no longer change (only the title, the "
            "description, the close, the time zone and whether results are public can).",
            code="election_open",
        )
    for field in ("title", "timezone", "method", "seats", "no_opinion", "results_public"):
        if field in sent and getattr(data, field) is None:
            raise InvalidInput.field(field, "must not be null")
    for field in sent & COLUMNS:
        value = getattr(data, field)
        if value is not None or field in NULLABLE:
            setattr(election, field, value)
    if "majorities" in sent:
        election.majorities = _stored_majorities(data.majorities)
    if data.electorate is not None:
        electorates.check(session, data.electorate)
        election.electorate = data.electorate.model_dump_json(exclude_none=True)
    names = [c.name for c in data.candidates] if data.candidates is not None else None
    try:
        _check_window(election.opens_at, election.closes_at)
    except ValueError as exc:
        raise InvalidInput.field("closes_at", str(exc)) from None
    if election.live_results and election.kind != "poll":
        raise InvalidInput.field("live_results", "only polls show live results")
    try:
        if data.candidates is not None:
            _check_candidates(data.candidates, election.seats)
        elif "seats" in sent:
            count = session.scalar(
                select(func.count())
                .select_from(Candidate)
                .where(Candidate.election_id == election.id)
            )
            if election.seats >= (count or 0):
                raise ValueError("there must be more candidates than seats")
    except ValueError as exc:
        field = "candidates" if "names" in str(exc) else "seats"
        raise InvalidInput.field(field, str(exc)) from None
    if any(getattr(election, field) is not None for field in COUNTING_OPTIONS):
        kept: Sequence[CandidateIn | Candidate] = (
            data.candidates if data.candidates is not None else candidates(session, election.id)
        )
        _check_counting(election, [c.name for c in kept])
    if election.state == OPEN and "closes_at" in sent and election.closes_at <= utcnow():
        raise InvalidInput.field("closes_at", "must be in the future; close the election instead")
    if data.candidates is not None:
        _write_candidates(session, election, data.candidates)
    election.updated_at = utcnow()
    _audit(session, user_id, election, "changed", fields=sorted(sent), candidates=names)
    return election


def delete_election(session: Session, *, actor: Actor, election: Election) -> None:
    """Only a draft goes: an election that has taken ballots is a record."""
    user_id = require_official(session, actor, election, "delete it")
    if election.state != DRAFT:
        raise Conflict(
            "Only a draft can be deleted: this election has opened.", code="election_open"
        )
    _audit(session, user_id, election, "deleted")
    session.delete(election)


def open_election(
    session: Session, *, actor: Actor | None, election: Election, now: dt.datetime
) -> Election:
    """Freeze the electorate and take ballots. An official opening early
    moves `opens_at` to now; the worker opens drafts whose time has come
    (`actor` None). Opening an open election changes nothing."""
    user_id = None
    if actor is not None:
        user_id = require_official(session, actor, election, "open it")
    if election.state == OPEN:
        return election
    if election.state == CLOSED:
        raise Conflict("The election is closed: it cannot open again.", code="election_closed")
    if election.closes_at <= now:
        raise Conflict(
            "The close is already past: move closes_at before opening.", code="election_window"
        )
    members = electorates.resolve(session, electorate_of(election))
    if not members:
        raise Conflict(
            "The electorate is empty: nobody could vote. Change it before opening.",
            code="electorate_empty",
        )
    # One insert of ids in order: the rows say nothing but membership.
    session.add_all(Voter(election_id=election.id, user_id=uid, voted=False) for uid in members)
    known = set(
        session.scalars(select(Follower.user_id).where(Follower.election_id == election.id))
    )
    session.add_all(
        Follower(election_id=election.id, user_id=uid, following=True)
        for uid in members
        if uid not in known
    )
    election.state = OPEN
    election.electorate_size = len(members)
    if election.opens_at > now:
        election.opens_at = now
    election.updated_at = now
    session.flush()
    _audit(session, user_id, election, "opened", electorate_size=len(members))
    notices.voting_opened(session, election)
    return election


def electorate_members(session: Session, *, actor: Actor, election: Election) -> list[int]:
    """The frozen electorate's user ids (officials and administrators)."""
    require_official(session, actor, election, "see its electorate")
    if election.state == DRAFT:
        return electorates.resolve(session, electorate_of(election))
    return list(
        session.scalars(
            select(Voter.user_id).where(Voter.election_id == election.id).order_by(Voter.user_id)
        )
    )


def electorate_rows(
    session: Session, *, actor: Actor, election: Election
) -> list[tuple[int, str, str]]:
    """The electorate's (id, name, email), for officials to export."""
    ids = electorate_members(session, actor=actor, election=election)
    rows: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows += [
            (uid, name or "", email or "")
            for uid, name, email in session.execute(
                select(User.id, User.full_name, User.email)
                .where(User.id.in_(chunk))
                .order_by(User.id)
            )
        ]
    return rows


def membership(session: Session, *, actor: Actor, election: Election) -> dict[str, bool]:
    """Whether the actor is on the electorate and has voted."""
    if actor.user_id is None:
        return {"eligible": False, "voted": False}
    if election.state == DRAFT:
        members = electorates.resolve(session, electorate_of(election))
        return {"eligible": actor.user_id in members, "voted": False}
    voted = session.scalar(
        select(Voter.voted).where(Voter.election_id == election.id, Voter.user_id == actor.user_id)
    )
    return {"eligible": voted is not None, "voted": bool(voted)}


def is_following(session: Session, *, actor: Actor, election: Election) -> bool:
    if actor.user_id is None:
        return False
    row = session.get(Follower, (election.id, actor.user_id))
    return row is not None and row.following


def follow(session: Session, *, actor: Actor, election: Election, following: bool) -> None:
    user_id = require_user(actor)
    row = session.get(Follower, (election.id, user_id))
    if row is None:
        session.add(Follower(election_id=election.id, user_id=user_id, following=following))
    else:
        row.following = following
    session.flush()
