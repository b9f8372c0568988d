"""/v1/elections: elections and polls.

Officials create (administrators), change, open and close them; voters
cast ballots (`POST /{id}/ballots`, ranking as tiers of candidate ids,
best first) and get a receipt; after the close (or live, for polls that
chose so) `GET /{id}/results` answers the same document as
`storyline elections count --json` with every analysis, and
`GET /{id}/ballots.csv` the anonymized ballots in CIVS's format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatchDep
from storyline.api.roles import mount_permissions
from storyline.errors import NotFound
from storyline.kernel.access import results_visible
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id
from storyline.voting import ballots, elections, results
from storyline.voting.ballots import BallotIn
from storyline.voting.elections import ElectionChange, ElectionIn
from storyline.voting.models import DRAFT, ELECTION_ROLES, Election

router = APIRouter(prefix="/elections", tags=["elections"])


class CandidateOut(BaseModel):
    id: int
    position: int
    name: str
    user_id: int | None
    statement: str | None


class ElectionOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    kind: str
    title: str
    description: str | None
    method: str
    seats: int
    proportional: str | None
    no_opinion: bool
    tie_rule: str | None
    default_option: str | None
    quorum: float | None
    majorities: dict[str, int] | None
    opens_at: Timestamp
    closes_at: Timestamp
    timezone: str
    results_public: bool
    live_results: bool
    state: str
    # Open and closed elections: the frozen electorate's size and how many
    # have voted (counts, never who).
    electorate_size: int | None
    ballots: int | None
    closed_at: Timestamp | None
    creator_id: int | None
    officials: list[int]
    candidates: list[CandidateOut]
    # The electorate's definition: officials only (it may name people).
    electorate: dict[str, Any] | None
    # Whether the caller may see the results now.
    results_available: bool


def _outs(session: Session, ctx: Any, shown: Sequence[Election]) -> list[ElectionOut]:
    """The elections as the caller sees them, in a few queries however many."""
    ids = [e.id for e in shown]
    held = elections.officials(session, ids)
    counted = ballots.turnouts(session, [e.id for e in shown if e.state != DRAFT])
    cands = elections.candidates_of(session, ids)
    return [
        ElectionOut(
            id=election.id,
            created_at=election.created_at,
            updated_at=election.updated_at,
            kind=election.kind,
            title=election.title,
            description=election.description,
            method=election.method,
            seats=election.seats,
            proportional=election.proportional,
            no_opinion=election.no_opinion,
            tie_rule=election.tie_rule,
            default_option=election.default_option,
            quorum=election.quorum,
            majorities=elections.majorities_of(election),
            opens_at=election.opens_at,
            closes_at=election.closes_at,
            timezone=election.timezone,
            results_public=election.results_public,
            live_results=election.live_results,
            state=election.state,
            electorate_size=election.electorate_size,
            ballots=counted.get(election.id),
            closed_at=election.closed_at,
            creator_id=election.creator_id,
            officials=held[election.id],
            candidates=[
                CandidateOut(
                    id=c.id,
                    position=c.position,
                    name=c.name,
                    user_id=c.user_id,
                    statement=c.statement,
                )
                for c in cands[election.id]
            ],
            # The definition may name people: officials (and administrators) only.
            electorate=(
                elections.electorate_of(election)
                if ctx.actor.is_superuser or ctx.actor.user_id in held[election.id]
                else None
            ),
            results_available=results_visible(session, actor=ctx.actor, election=election),
        )
        for election in shown
    ]


def _out(session: Session, ctx: Any, election: Election) -> ElectionOut:
    return _outs(session, ctx, [election])[0]


def _current(session: Session, ctx: Any, election_id: int) -> ElectionOut:
    election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
    return _out(session, ctx, election)


@router.get("", response_model=list[ElectionOut])
def list_elections(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    state: Annotated[str | None, Query(max_length=10)] = None,
    kind: Annotated[str | None, Query(max_length=10)] = None,
) -> Any:
    """Elections and polls the caller may see: open and closed ones, and
    the drafts they are an official of."""
    with ctx.db.read() as session:
        page = elections.list_elections(
            session, actor=ctx.actor, page=paging.request(ctx.settings), state=state, kind=kind
        )
        out = _outs(session, ctx, page.items)
    set_page_headers(response, page)
    return out


@router.post("", response_model=ElectionOut, status_code=201)
def create_election(ctx: ContextDep, body: ElectionIn) -> Any:
    """A draft election or poll (administrators); the creator is an official."""
    with ctx.db.write() as session:
        election = elections.create_election(session, actor=ctx.actor, data=body)
        return _out(session, ctx, election)


@router.get("/{election_id}", response_model=ElectionOut)
def get_election(ctx: ContextDep, election_id: Id) -> Any:
    with ctx.db.read() as session:
        return _current(session, ctx, election_id)


@router.put("/{election_id}", response_model=ElectionOut)
def update_election(
    ctx: ContextDep, election_id: Id, body: ElectionChange, if_match: IfMatchDep
) -> Any:
    """Change a draft; once open, only the title, description, close, time
    zone and publication of the results."""
    with ctx.db.write() as session:
        if_match.check(
            session, Election.id, election_id, lambda: _current(session, ctx, election_id)
        )
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        elections.update_election(session, actor=ctx.actor, election=election, data=body)
        return _out(session, ctx, election)


@router.delete("/{election_id}", status_code=204)
def delete_election(ctx: ContextDep, election_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        if_match.check(
            session, Election.id, election_id, lambda: _current(session, ctx, election_id)
        )
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        elections.delete_election(session, actor=ctx.actor, election=election)
    return Response(status_code=204)


@router.post("/{election_id}/open", response_model=ElectionOut)
def open_election(ctx: ContextDep, election_id: Id) -> Any:
    """Freeze the electorate and open voting now (officials). Opening an
    open election answers it unchanged."""
    with ctx.db.write() as session:
        election = elections.get_election(
            session, actor=ctx.actor, election_id=election_id, for_update=True
        )
        elections.open_election(session, actor=ctx.actor, election=election, now=utcnow())
        return _out(session, ctx, election)


@router.post("/{election_id}/close", response_model=ElectionOut)
def close_election(ctx: ContextDep, election_id: Id) -> Any:
    """Close voting now and count (officials). Closing a closed election
    answers it unchanged."""
    with ctx.db.write() as session:
        election = ballots.close(session, actor=ctx.actor, election_id=election_id, now=utcnow())
        return _out(session, ctx, election)


class Membership(BaseModel):
    eligible: bool
    voted: bool


@router.get("/{election_id}/electorate/me", response_model=Membership)
def my_membership(ctx: ContextDep, election_id: Id) -> Any:
    """Whether the caller is on the electorate, and has voted."""
    with ctx.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        return elections.membership(session, actor=ctx.actor, election=election)


class ElectorateOut(BaseModel):
    size: int
    frozen: bool
    user_ids: list[int]


@router.get("/{election_id}/electorate", response_model=ElectorateOut)
def electorate(ctx: ContextDep, election_id: Id) -> Any:
    """The electorate (officials): frozen once voting opens; while a draft,
    who it would be now."""
    with ctx.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        members = elections.electorate_members(session, actor=ctx.actor, election=election)
        return ElectorateOut(size=len(members), frozen=election.state != "draft", user_ids=members)


@router.get("/{election_id}/electorate.csv", response_class=Response)
def electorate_csv(ctx: ContextDep, election_id: Id) -> Response:
    """The electorate as CSV (user id, name, email), for officials."""
    with ctx.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        rows = elections.electorate_rows(session, actor=ctx.actor, election=election)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["user_id", "full_name", "email"])
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="electorate-{election_id}.csv"'},
    )


class Receipt(BaseModel):
    receipt: str
    counted: bool = True


@router.post("/{election_id}/ballots", response_model=Receipt, status_code=201)
def cast_ballot(ctx: ContextDep, election_id: Id, body: BallotIn, response: Response) -> Any:
    """Cast the caller's ballot: `ranking` is a list of tiers of candidate
    ids, best first (a tier of several is a tie; candidates left out rank
    last). The answer's receipt proves the ballot was counted, and replaces
    it until the close when sent back as `receipt`. Keep it: nobody can
    find it again."""
    with ctx.db.write() as session:
        receipt = ballots.cast(
            session, actor=ctx.actor, election_id=election_id, data=body, now=utcnow()
        )
    # The receipt is the voter's alone: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return Receipt(receipt=receipt)


class ReceiptCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipt: str = Field(max_length=100)


@router.post("/{election_id}/receipts", response_model=Receipt)
def check_receipt(ctx: ContextDep, election_id: Id, body: ReceiptCheck) -> Any:
    """Whether the ballot with this receipt is in the ballot box (the
    receipt goes in the body, never in a URL that logs would keep)."""
    with ctx.db.read() as session:
        found = ballots.counted(
            session, actor=ctx.actor, election_id=election_id, receipt=body.receipt
        )
    return Receipt(receipt=body.receipt, counted=found)


@router.get("/{election_id}/results")
def get_results(ctx: ContextDep, election_id: Id) -> Any:
    """The results document: `ranking` (tiers of names) and `winners` as
    `storyline elections count --json` prints them, the seat-boundary tie
    and its break, the pairwise matrix, every method's ranking, the
    proportional comparison, the Condorcet spread, partisan pairs and
    company blocks."""
    with ctx.db.read() as session:
        return ballots.read_results(session, actor=ctx.actor, election_id=election_id)


ChartName = Annotated[str, Path(pattern=r"^[a-z_]{1,30}$")]


@router.get("/{election_id}/results/{chart}.svg", response_class=Response)
def results_chart(ctx: ContextDep, election_id: Id, chart: ChartName) -> Response:
    with ctx.db.read() as session:
        document = ballots.read_results(session, actor=ctx.actor, election_id=election_id)
    if chart not in results.CHARTS:
        raise NotFound.of("chart", chart)
    return Response(results.charts(document, (chart,))[chart], media_type="image/svg+xml")


@router.get("/{election_id}/ballots.csv", response_class=Response)
def ballot_file(ctx: ContextDep, election_id: Id) -> Response:
    """The anonymized ballots in CIVS's format, after the close."""
    with ctx.db.read() as session:
        text = ballots.ballot_file(session, actor=ctx.actor, election_id=election_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ballots-{election_id}.csv"'},
    )


class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    following: bool


@router.put("/{election_id}/following", response_model=FollowIn)
def follow(ctx: ContextDep, election_id: Id, body: FollowIn) -> Any:
    """Follow the election (its opening, reminder and results by email) or stop."""
    with ctx.db.write() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        elections.follow(session, actor=ctx.actor, election=election, following=body.following)
    return body


mount_permissions(
    router,
    spec=ELECTION_ROLES,
    param="election_id",
    load=elections.load_election,
    row=Election.id,
    current=_current,
)

__all__ = ["ElectionOut", "router"]
