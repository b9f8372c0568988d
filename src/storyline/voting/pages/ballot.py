"""The ballot page, the receipt, and checking a receipt.

The ballot is a plain form: one rank select per candidate (equal numbers
tie, "unranked" ranks last, "no opinion" where the election allows it).
`static/ballot.js` turns it into a drag-and-drop and keyboard ranking
widget that keeps those selects in sync, so the same POST casts either way.
Casting goes through `storyline.voting.ballots.cast`, as the API does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from storyline.errors import InvalidInput, StorylineError
from storyline.http.errors import status_for
from storyline.kernel import markdown
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id, validate
from storyline.voting import ballots, elections
from storyline.voting.ballots import NO_OPINION, BallotIn
from storyline.voting.models import Candidate, Election
from storyline.voting.pages.elections import window_time
from storyline.web.rendering import PageRoute, field_errors, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# A rank select's name: the candidate's id follows.
RANK_FIELD = "rank_"
UNRANKED = ""

# What the ballot page says when casting is refused, by error code: the
# service's messages are written for API clients.
REFUSALS: dict[str, str] = {
    "voting_not_open": "Voting has not opened yet: come back when it opens.",
    "voting_closed": "Voting has closed: this ballot was not counted.",
    "already_voted": (
        "You have already voted. To change your ballot, enter the receipt you were given "
        "when you voted."
    ),
    "not_in_electorate": "You are not on this election's electorate, so you cannot vote in it.",
}


async def _form(request: Request) -> FormData:
    # The candidates' fields are named by their ids, so the form is read
    # whole (the CSRF check has already parsed it; this is its cache).
    return await request.form()


FormFields = Annotated[FormData, Depends(_form)]


def shuffled(
    secret: str, election_id: int, user_id: int, items: Sequence[Candidate]
) -> list[Candidate]:
    """The candidates in this voter's order: shuffled so that no candidate
    gains from being listed first, the same on every visit, and derived
    from the server's secret so that it is stored nowhere."""
    seed = hmac.new(
        secret.encode(), f"ballot-order\x00{election_id}\x00{user_id}".encode(), hashlib.sha256
    ).digest()
    order = list(items)
    random.Random(seed).shuffle(order)
    return order


def ballot_from_form(
    election: Election, candidates: Sequence[Candidate], values: Mapping[str, str]
) -> BallotIn:
    """The ranking the selects describe: equal numbers are one tier, the
    numbers only order the tiers (gaps do not matter)."""
    tiers: dict[int, list[int]] = {}
    no_opinion: list[int] = []
    for c in candidates:
        value = values.get(f"{RANK_FIELD}{c.id}", UNRANKED).strip()
        if value == UNRANKED:
            continue
        if value == NO_OPINION and election.no_opinion:
            no_opinion.append(c.id)
            continue
        if not value.isdigit() or not 1 <= int(value) <= len(candidates):
            raise InvalidInput.field(
                f"{RANK_FIELD}{c.id}", f"{c.name}: choose a rank from 1 to {len(candidates)}"
            )
        tiers.setdefault(int(value), []).append(c.id)
    receipt = values.get("receipt", "").strip() or None
    return validate(
        BallotIn,
        {
            "ranking": [tiers[n] for n in sorted(tiers)],
            "no_opinion": no_opinion,
            "receipt": receipt,
        },
    )


def _ballot_page(
    ctx: PageContext,
    session: Session,
    election: Election,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> Response:
    assert ctx.signed_in is not None
    now = utcnow()
    candidates = elections.candidates(session, election.id)
    membership = elections.membership(session, actor=ctx.actor, election=election)
    return render(
        ctx,
        "voting/ballot.html",
        status=status,
        election=election,
        candidates=shuffled(ctx.secret, election.id, ctx.signed_in.user_id, candidates),
        count=len(candidates),
        statements={c.id: markdown.render(c.statement) for c in candidates if c.statement},
        description_html=markdown.render(election.description),
        opens=window_time(election.opens_at, election.timezone),
        closes=window_time(election.closes_at, election.timezone),
        membership=membership,
        state=_voting_state(election, now),
        values=values,
        errors=errors,
        rank_field=RANK_FIELD,
        no_opinion=NO_OPINION,
    )


def _voting_state(election: Election, now: dt.datetime) -> str:
    if elections.voting_is_open(election, now):
        return "open"
    if election.state == "closed" or now >= election.closes_at:
        return "closed"
    return "not_open"


@router.get("/elections/{election_id}/ballot")
def ballot_page(ctx: PageDep, election_id: Id) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        return _ballot_page(ctx, session, election, values={}, errors={})


@router.post("/elections/{election_id}/ballot")
def cast_ballot(ctx: FormDep, election_id: Id, form: FormFields) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        with ctx.container.db.write() as session:
            election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
            data = ballot_from_form(election, elections.candidates(session, election.id), values)
            receipt = ballots.cast(
                session, actor=ctx.actor, election_id=election_id, data=data, now=utcnow()
            )
    except StorylineError as error:
        if error.code not in REFUSALS and not isinstance(error, InvalidInput):
            raise
        errors = field_errors(error)
        if error.code in REFUSALS:
            errors = {"": REFUSALS[error.code]}
        with ctx.container.db.read() as session:
            election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
            return _ballot_page(
                ctx, session, election, values=values, errors=errors, status=status_for(error)
            )
    # Shown here, once: a redirect would have to carry the receipt in a URL.
    page = render(
        ctx,
        "voting/receipt.html",
        election=election,
        receipt=receipt,
        replaced=data.receipt is not None,
        checked=None,
    )
    # Nor may a cache (the browser's history, a proxy) keep it.
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/elections/{election_id}/receipt")
def receipt_page(ctx: PageDep, election_id: Id) -> Response:
    """The form to check a receipt."""
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
    return render(ctx, "voting/receipt.html", election=election, receipt=None, checked=None)


@router.post("/elections/{election_id}/receipt")
def check_receipt(ctx: FormDep, election_id: Id, form: FormFields) -> Response:
    """Whether the ballot with this receipt is counted (the receipt comes in
    the form's body, never in a URL that logs would keep)."""
    sent = form.get("receipt")
    receipt = sent.strip()[:100] if isinstance(sent, str) else ""
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        found = bool(receipt) and ballots.counted(
            session, actor=ctx.actor, election_id=election_id, receipt=receipt
        )
    return render(
        ctx, "voting/receipt.html", election=election, receipt=None, checked=found, sent=receipt
    )
