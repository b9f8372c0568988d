"""Casting ballots, closing an election, and what can be read after.

A ballot is stored with nothing that ties it to its voter (see
`storyline.voting.models`). Casting does two writes in one unit of work:
the voter's row turns to "has voted" (an UPDATE that matches only a row
still at "not voted", so a second ballot from the same voter, even sent at
the same instant, finds nothing to update and is refused), and the ballot
goes in under a random key. The voter is shown a receipt, a random secret
whose hash is stored with the ballot: it proves the ballot is among those
counted, and is the only way to replace the ballot until the close. The
server keeps no other trace of whose ballot is whose, so a lost receipt
cannot be replaced, and nobody (officials, administrators, a database
dump) can learn how someone voted.

Casting holds a shared lock on the election's row and closing an exclusive
one (PostgreSQL; SQLite's writes are serial): a ballot committed before the
close is counted, one arriving after is refused with `voting_closed`, none
is lost or counted twice. Closing twice closes once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import secrets
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel.access import Actor, require_user, results_visible
from storyline.kernel.validation import Id
from storyline.voting import elections, notices, results
from storyline.voting.models import (
    CLOSED,
    DRAFT,
    OPEN,
    Candidate,
    Election,
    StoredBallot,
    Voter,
)

NO_OPINION = "-"
# A receipt: 128 random bits, shown once.
RECEIPT_BYTES = 16


# A tier of candidates ranked equal: no more than the candidates there are.
Tier = Annotated[list[Id], Field(max_length=elections.MAX_CANDIDATES)]


class BallotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Tiers of candidate ids, best first; candidates in one tier tie;
    # candidates left out rank last, together.
    ranking: list[Tier] = Field(max_length=elections.MAX_CANDIDATES)
    # Candidates the voter has no opinion on, where the election allows it.
    no_opinion: list[Id] = Field(default_factory=list, max_length=elections.MAX_CANDIDATES)
    # The receipt of the ballot this one replaces.
    receipt: str | None = Field(default=None, max_length=100)


def receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.strip().encode()).hexdigest()


def encode(election: Election, positions: Mapping[int, int], data: BallotIn) -> str:
    """The stored form of a ballot: one value per candidate, in order
    (`positions`: candidate id -> its position)."""
    by_id = positions
    ranks: list[str | None] = [None] * len(positions)
    for number, tier in enumerate(data.ranking, start=1):
        if not tier:
            raise InvalidInput.field("ranking", f"tier {number} is empty")
        for candidate_id in tier:
            _place(ranks, by_id, candidate_id, str(number), "ranking")
    if data.no_opinion and not election.no_opinion:
        raise InvalidInput.field("no_opinion", "this election does not allow “no opinion”")
    for candidate_id in data.no_opinion:
        _place(ranks, by_id, candidate_id, NO_OPINION, "no_opinion")
    # As CIVS: whoever is left unranked ranks last, all together.
    last = str(len(positions))
    return ",".join(rank if rank is not None else last for rank in ranks)


def _place(
    ranks: list[str | None], by_id: Mapping[int, int], candidate_id: int, value: str, field: str
) -> None:
    position = by_id.get(candidate_id)
    if position is None:
        raise InvalidInput.field(field, f"no candidate with id {candidate_id} in this election")
    if ranks[position] is not None:
        raise InvalidInput.field(field, f"candidate {candidate_id} appears twice")
    ranks[position] = value


def _locked(session: Session, actor: Actor, election_id: int, *, exclusive: bool) -> Election:
    # Ballots share the election's row; the close takes it alone. One
    # statement reads the row through the gate and locks it.
    return elections.get_election(
        session, actor=actor, election_id=election_id, lock="update" if exclusive else "share"
    )


def _check_open(election: Election, now: dt.datetime) -> None:
    if election.state == DRAFT or now < election.opens_at:
        raise Conflict(
            "Voting has not opened yet.",
            code="voting_not_open",
            details={"opens_at": election.opens_at.isoformat()},
        )
    if election.state == CLOSED or now >= election.closes_at:
        raise Conflict(
            f"Voting closed at {election.closes_at.isoformat()}; the ballot was not counted.",
            code="voting_closed",
            details={"closes_at": election.closes_at.isoformat()},
        )


def cast(
    session: Session, *, actor: Actor, election_id: int, data: BallotIn, now: dt.datetime
) -> str:
    """Cast (or, with its receipt, replace) the actor's ballot; answers the
    receipt. The ballot is valid only if it is committed."""
    user_id = require_user(actor)
    election = _locked(session, actor, election_id, exclusive=False)
    _check_open(election, now)
    ranks = encode(election, elections.positions(session, election.id), data)
    if data.receipt is not None:
        return _replace(session, election, user_id, data.receipt, ranks)
    # The one statement that decides: it turns "has voted" on only for a
    # member who has not voted, so of two ballots sent at once one wins.
    changed = session.execute(
        update(Voter)
        .where(
            Voter.election_id == election.id,
            Voter.user_id == user_id,
            Voter.voted.is_(False),
        )
        .values(voted=True)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        if _voted(session, election, user_id) is None:
            raise _outsider()
        raise Conflict(
            "You have already voted. To change your ballot, send it with the receipt "
            "you were given.",
            code="already_voted",
        )
    receipt = secrets.token_urlsafe(RECEIPT_BYTES)
    session.add(
        StoredBallot(
            election_id=election.id,
            key=secrets.token_hex(16),
            receipt_hash=receipt_hash(receipt),
            ranks=ranks,
        )
    )
    session.flush()
    return receipt


def _voted(session: Session, election: Election, user_id: int) -> bool | None:
    """Whether the user has voted; None when they are not on the electorate."""
    return session.scalar(
        select(Voter.voted).where(Voter.election_id == election.id, Voter.user_id == user_id)
    )


def _outsider() -> PermissionDenied:
    return PermissionDenied("You are not on this election's electorate.", code="not_in_electorate")


def _replace(session: Session, election: Election, user_id: int, receipt: str, ranks: str) -> str:
    voted = _voted(session, election, user_id)
    if voted is None:
        raise _outsider()
    ballot = session.scalar(
        select(StoredBallot).where(
            StoredBallot.election_id == election.id,
            StoredBallot.receipt_hash == receipt_hash(receipt),
        )
    )
    if ballot is None or not voted:
        raise InvalidInput.field("receipt", "no ballot of this election has this receipt")
    ballot.ranks = ranks
    session.flush()
    return receipt.strip()


def counted(session: Session, *, actor: Actor, election_id: int, receipt: str) -> bool:
    """Whether a ballot with this receipt is in the ballot box."""
    election = elections.get_election(session, actor=actor, election_id=election_id)
    return (
        session.scalar(
            select(StoredBallot.key).where(
                StoredBallot.election_id == election.id,
                StoredBallot.receipt_hash == receipt_hash(receipt),
            )
        )
        is not None
    )


def turnout(session: Session, election: Election) -> int:
    """How many have voted (a count: never who)."""
    return turnouts(session, [election.id])[election.id]


def turnouts(session: Session, election_ids: Sequence[int]) -> dict[int, int]:
    """Election id -> how many have voted, in one query (the list pages)."""
    if not election_ids:
        return {}
    counts: dict[int, int] = {
        eid: int(n)
        for eid, n in session.execute(
            select(StoredBallot.election_id, func.count())
            .where(StoredBallot.election_id.in_(election_ids))
            .group_by(StoredBallot.election_id)
        )
    }
    return {eid: counts.get(eid, 0) for eid in election_ids}


def _stored(session: Session, election: Election) -> list[str]:
    return list(
        session.scalars(
            select(StoredBallot.ranks)
            .where(StoredBallot.election_id == election.id)
            .order_by(StoredBallot.key)
        )
    )


def _shuffle_storage(session: Session, election: Election) -> None:
    """Rewrite the ballots and the voters' rows in this one transaction.

    On PostgreSQL a row carries the transaction that wrote it (`xmin`) and
    sits where it was inserted: while voting was open, a ballot and its
    voter's "has voted" shared a transaction. After this, every ballot and
    every voter row was written by the close, the ballots in a random order
    under new random keys, so nothing at rest pairs them."""
    rows = list(
        session.execute(
            select(StoredBallot.receipt_hash, StoredBallot.ranks).where(
                StoredBallot.election_id == election.id
            )
        )
    )
    random.SystemRandom().shuffle(rows)
    session.execute(delete(StoredBallot).where(StoredBallot.election_id == election.id))
    session.add_all(
        StoredBallot(
            election_id=election.id,
            key=secrets.token_hex(16),
            receipt_hash=digest,
            ranks=ranks,
        )
        for digest, ranks in rows
    )
    session.execute(
        update(Voter)
        .where(Voter.election_id == election.id)
        .values(voted=Voter.voted)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def affiliations(session: Session, candidates: Sequence[Candidate]) -> dict[str, list[str]]:
    """Affiliation -> the candidates declaring it (those with an account and
    an affiliation in their profile), for the company-block analysis."""
    user_ids = [c.user_id for c in candidates if c.user_id is not None]
    if not user_ids:
        return {}
    # Rows unpack as tuples (`Result.tuples()` is deprecated since SQLAlchemy 2.1).
    declared: dict[int, str | None] = dict(
        session.execute(select(User.id, User.affiliation).where(User.id.in_(user_ids))).all()
    )
    groups: dict[str, list[str]] = {}
    for c in candidates:
        affiliation = declared.get(c.user_id) if c.user_id is not None else None
        if affiliation:
            groups.setdefault(affiliation.strip(), []).append(c.name)
    return {name: members for name, members in groups.items() if len(members) >= 2}


def count(session: Session, election: Election, *, seed: int | None = None) -> dict[str, Any]:
    """The results document of the ballots in the box now. `seed` draws
    the lottery that breaks a tie at the seat boundary (and MAM's random
    voter order): the close draws it at random and the stored document
    records it; live results use the election's id, so that they do not
    change from one reading to the next."""
    cands = elections.candidates(session, election.id)
    return results.count(
        candidates=[c.name for c in cands],
        ballots=_stored(session, election),
        method=election.method,
        seats=election.seats,
        proportional=election.proportional,
        groups=affiliations(session, cands),
        seed=election.id if seed is None else seed,
        # The column's null is the rule the library calls "current".
        tie_rule="pre-2024" if election.tie_rule == "pre-2024" else "current",
        default_option=election.default_option,
        quorum=election.quorum,
        majorities=elections.majorities_of(election),
    )


def close(session: Session, *, actor: Actor | None, election_id: int, now: dt.datetime) -> Election:
    """Close voting and count. An official may close early; the worker
    closes at `closes_at` (`actor` None). Closing a closed election changes
    nothing."""
    election = _locked(session, actor or _SYSTEM, election_id, exclusive=True)
    user_id = None
    if actor is not None:
        user_id = elections.require_official(session, actor, election, "close it")
    if election.state == CLOSED:
        return election
    if election.state == DRAFT:
        raise Conflict(
            "Voting has not opened: delete the draft instead of closing it.",
            code="voting_not_open",
        )
    _shuffle_storage(session, election)
    election.state = CLOSED
    election.closed_at = now
    if election.closes_at > now:
        election.closes_at = now
    seed = secrets.randbelow(2**31)
    election.results = json.dumps(count(session, election, seed=seed), sort_keys=True)
    election.updated_at = now
    session.flush()
    elections._audit(session, user_id, election, "closed")
    notices.results_announced(session, election)
    return election


# The worker sees every election.
_SYSTEM = Actor(user_id=None, is_superuser=True)


def read_results(session: Session, *, actor: Actor, election_id: int) -> dict[str, Any]:
    """The results document, for those who may see it."""
    election = elections.get_election(session, actor=actor, election_id=election_id)
    if not results_visible(session, actor=actor, election=election):
        raise _not_yet(election)
    if election.state == OPEN:
        document = count(session, election)
        document["live"] = True
        return document
    return dict(json.loads(election.results or "{}"))


def _not_yet(election: Election) -> Conflict | NotFound:
    if election.state != CLOSED and not election.live_results:
        return Conflict(
            f"Results are published when voting closes ({election.closes_at.isoformat()}).",
            code="results_not_published",
        )
    return NotFound(
        "The results of this election are shown to its electorate and officials only.",
        details={"resource": "election results", "id": str(election.id)},
    )


def ballot_file(session: Session, *, actor: Actor, election_id: int) -> str:
    """The anonymized ballots in CIVS's format, after the close."""
    election = elections.get_election(session, actor=actor, election_id=election_id)
    if election.state != CLOSED:
        raise Conflict(
            "The ballots are published when voting closes.", code="results_not_published"
        )
    if not results_visible(session, actor=actor, election=election):
        raise _not_yet(election)
    cands = elections.candidates(session, election.id)
    return results.ballot_file([c.name for c in cands], _stored(session, election))
