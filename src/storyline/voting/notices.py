"""What an election tells people by email: voting opened, it closes
tomorrow, the results are out.

Notices go to the election's followers (the electorate follows when voting
opens; anyone who may see the election may follow or stop) through the
outbox, in the transaction of the change they tell, and the worker sends
them like every other email (`storyline.notifications.email.render_notice`).
Following is the opt-out: an election notice is not a change to something
subscribed to, so the per-change email preference does not hold it back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.kernel import outbox
from storyline.kernel.access import actor_for, results_visible
from storyline.voting.models import Election, Follower, Voter


def _followers(session: Session, election: Election) -> list[int]:
    return list(
        session.scalars(
            select(Follower.user_id)
            .where(Follower.election_id == election.id, Follower.following.is_(True))
            .order_by(Follower.user_id)
        )
    )


def _send(
    session: Session,
    election: Election,
    what: str,
    users: list[int],
    subject: str,
    lines: list[str],
) -> None:
    for user_id in users:
        outbox.enqueue(
            session,
            kind="email",
            key=f"election-{election.id}-{what}-{user_id}",
            recipient_id=user_id,
            payload={
                "notice": {
                    "subject": subject,
                    "lines": lines,
                    "path": f"/elections/{election.id}",
                    "thread": f"election-{election.id}",
                }
            },
        )


def _window(election: Election) -> str:
    return f"{election.closes_at:%Y-%m-%d %H:%M} UTC"


def voting_opened(session: Session, election: Election) -> None:
    """To the electorate, who now follow the election."""
    members = set(session.scalars(select(Voter.user_id).where(Voter.election_id == election.id)))
    users = [uid for uid in _followers(session, election) if uid in members]
    _send(
        session,
        election,
        "opened",
        users,
        f"Vote: {election.title}",
        [
            f"Voting is open in “{election.title}”, and you are on its electorate.",
            f"It closes {_window(election)}.",
        ],
    )


def closing_soon(session: Session, election: Election) -> None:
    """To the electorate members who follow the election and have not voted."""
    waiting = set(
        session.scalars(
            select(Voter.user_id).where(Voter.election_id == election.id, Voter.voted.is_(False))
        )
    )
    users = [uid for uid in _followers(session, election) if uid in waiting]
    _send(
        session,
        election,
        "closing",
        users,
        f"Voting closes tomorrow: {election.title}",
        [
            f"Voting in “{election.title}” closes {_window(election)}.",
            "You are on its electorate and have not voted yet.",
        ],
    )


def results_announced(session: Session, election: Election) -> None:
    """To the followers who may see the results."""
    users = [
        uid
        for uid in _followers(session, election)
        if results_visible(session, actor=actor_for(session, uid), election=election)
    ]
    _send(
        session,
        election,
        "results",
        users,
        f"Results: {election.title}",
        [f"Voting in “{election.title}” has closed and the results are published."],
    )
