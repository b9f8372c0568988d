"""Elections and polls, their candidates, electorates and ballots.

Secrecy is a property of these tables (docs/voting.md, "Secrecy"):

- `election_voters` holds one row per member of the frozen electorate and
  only whether that member has voted: no time, no ballot key.
- `election_ballots` holds the ballots with no user, no time and no counter:
  its key is random, so rows are stored in key order, not in the order they
  were cast (on SQLite the table has no rowid; on PostgreSQL the close
  rewrites the table, see `storyline.voting.ballots.close`). A ballot is
  found again only by the hash of the receipt its voter was given.
- Nothing else changes when a ballot is cast: the election's row, its
  `updated_at` and the audit log stay as they were.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storyline.kernel.schema import (
    Base,
    IdMixin,
    RoleGrant,
    RoleSpec,
    TimestampMixin,
    UTCDateTime,
    role_object_key,
    role_table_args,
)

ELECTION = "election"
POLL = "poll"
KINDS = (ELECTION, POLL)

# An election is written while a draft, takes ballots while open, and is
# counted once closed; nothing goes back.
DRAFT = "draft"
OPEN = "open"
CLOSED = "closed"
STATES = (DRAFT, OPEN, CLOSED)

# Who may vote (`Election.electorate`, JSON): listed users, the members of a
# team, or the contributors with a task merged in some projects (or a
# project group) between two dates; each may add `extra_user_ids`.
ELECTORATE_USERS = "users"
ELECTORATE_TEAM = "team"
ELECTORATE_CONTRIBUTORS = "contributors"
ELECTORATE_TYPES = (ELECTORATE_USERS, ELECTORATE_TEAM, ELECTORATE_CONTRIBUTORS)

# Officials run an election: they write it, open and close it, and see its
# electorate. They never see who voted how: nobody can.
OFFICIAL = "official"


class Election(IdMixin, TimestampMixin, Base):
    __tablename__ = "elections"
    __table_args__ = (
        Index("ix_elections_state_closes_at", "state", "closes_at"),
        CheckConstraint("closes_at > opens_at", name="window_ordered"),
        CheckConstraint("seats >= 1", name="seats_positive"),
    )

    kind: Mapped[str] = mapped_column(String(10), default=ELECTION)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # A name of `storyline.elections.METHODS` ("schulze", "minimax-pm", ...).
    method: Mapped[str] = mapped_column(String(20), default="schulze")
    seats: Mapped[int] = mapped_column(Integer, default=1)
    # CIVS's proportional mode: null, "best" or "combined".
    proportional: Mapped[str | None] = mapped_column(String(10))
    no_opinion: Mapped[bool] = mapped_column(Boolean, default=False)
    # Counting options of some methods (`storyline.elections.count`), set to
    # hold an election again under the rule it was counted by. Condorcet-IRV:
    # the tie rule, null for the current one or "pre-2024". Debian: the
    # default option (a candidate's name; null, the last candidate), the
    # quorum R, and the majorities (JSON: candidate name -> N for N:1).
    tie_rule: Mapped[str | None] = mapped_column(String(10))
    default_option: Mapped[str | None] = mapped_column(String(255))
    quorum: Mapped[float | None] = mapped_column(Float)
    majorities: Mapped[str | None] = mapped_column(Text)
    opens_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The IANA zone the pages show the window in ("Europe/Paris"); the
    # window itself is stored in UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Results for everyone who may see the election, or only for its
    # electorate and officials.
    results_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Polls only: results shown while voting is still open.
    live_results: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default=DRAFT)
    # The electorate's definition (JSON), as the officials wrote it.
    electorate: Mapped[str] = mapped_column(Text)
    # Set when voting opens and the electorate is frozen.
    electorate_size: Mapped[int | None] = mapped_column(Integer)
    # Whether the "closes tomorrow" reminder went out.
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The results document (JSON), counted once at the close.
    results: Mapped[str | None] = mapped_column(Text)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Candidate(IdMixin, Base):
    __tablename__ = "election_candidates"
    __table_args__ = (
        UniqueConstraint("election_id", "position"),
        UniqueConstraint("election_id", "name"),
    )

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    # The order officials gave; ballots and ballot files follow it.
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    statement: Mapped[str | None] = mapped_column(Text)


class ElectionRole(RoleGrant, Base):
    __tablename__ = "election_roles"
    __table_args__ = role_table_args("election_roles")

    election_id: Mapped[int] = role_object_key("elections")


ELECTION_ROLES = RoleSpec(
    kind="election",
    noun="election",
    table=ElectionRole,
    object_key="election_id",
    codenames={"run_election": OFFICIAL},
    fields=("officials",),
)


class Voter(Base):
    """A member of an election's frozen electorate, and whether they voted."""

    __tablename__ = "election_voters"
    __table_args__ = (Index("ix_election_voters_user_id", "user_id"),)

    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    voted: Mapped[bool] = mapped_column(Boolean, default=False)


class StoredBallot(Base):
    """One ballot, with nothing that names or dates its voter."""

    __tablename__ = "election_ballots"
    __table_args__ = ({"sqlite_with_rowid": False},)

    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), primary_key=True
    )
    # Random, and the key the rows are stored and read in.
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    # SHA-256 of the receipt the voter was shown: proves the ballot counted,
    # and lets its holder replace it until the close.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # One value per candidate in `Candidate.position` order, comma
    # separated: a rank (1 best, equal ranks tie) or "-" for no opinion.
    ranks: Mapped[str] = mapped_column(Text)


class Follower(Base):
    """Someone told when an election opens, is about to close and is counted.

    The electorate follows when voting opens; anyone who may see the
    election may follow it or stop."""

    __tablename__ = "election_followers"
    __table_args__ = (Index("ix_election_followers_user_id", "user_id"),)

    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    following: Mapped[bool] = mapped_column(Boolean, default=True)
