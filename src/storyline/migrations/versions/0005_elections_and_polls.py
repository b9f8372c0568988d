"""elections and polls

Elections and polls with their candidates, officials (a role table),
frozen electorates ("has voted" only), secret ballots (no rowid on SQLite,
no user, no time), followers, and the users' declared affiliation.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "elections",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("proportional", sa.String(length=10), nullable=True),
        sa.Column("no_opinion", sa.Boolean(), nullable=False),
        sa.Column("tie_rule", sa.String(length=10), nullable=True),
        sa.Column("default_option", sa.String(length=255), nullable=True),
        sa.Column("quorum", sa.Float(), nullable=True),
        sa.Column("majorities", sa.Text(), nullable=True),
        sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("results_public", sa.Boolean(), nullable=False),
        sa.Column("live_results", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("electorate", sa.Text(), nullable=False),
        sa.Column("electorate_size", sa.Integer(), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("results", sa.Text(), nullable=True),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_elections_window_ordered")),
        sa.CheckConstraint("seats >= 1", name=op.f("ck_elections_seats_positive")),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_elections_creator_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elections")),
    )
    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.create_index("ix_elections_state_closes_at", ["state", "closes_at"], unique=False)

    op.create_table(
        "election_ballots",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("ranks", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_ballots_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("election_id", "key", name=op.f("pk_election_ballots")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_election_ballots_receipt_hash")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "election_candidates",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_candidates_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_election_candidates_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_election_candidates")),
        sa.UniqueConstraint(
            "election_id", "name", name=op.f("uq_election_candidates_election_id_name")
        ),
        sa.UniqueConstraint(
            "election_id", "position", name=op.f("uq_election_candidates_election_id_position")
        ),
    )
    op.create_table(
        "election_followers",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_followers_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_election_followers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("election_id", "user_id", name=op.f("pk_election_followers")),
    )
    with op.batch_alter_table("election_followers", schema=None) as batch_op:
        batch_op.create_index("ix_election_followers_user_id", ["user_id"], unique=False)

    op.create_table(
        "election_roles",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_roles_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_election_roles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("election_id", "user_id", "role", name=op.f("pk_election_roles")),
    )
    with op.batch_alter_table("election_roles", schema=None) as batch_op:
        batch_op.create_index("ix_election_roles_user_id", ["user_id"], unique=False)

    op.create_table(
        "election_voters",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("voted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_voters_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_election_voters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("election_id", "user_id", name=op.f("pk_election_voters")),
    )
    with op.batch_alter_table("election_voters", schema=None) as batch_op:
        batch_op.create_index("ix_election_voters_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("affiliation", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("affiliation")

    with op.batch_alter_table("election_voters", schema=None) as batch_op:
        batch_op.drop_index("ix_election_voters_user_id")

    op.drop_table("election_voters")
    with op.batch_alter_table("election_roles", schema=None) as batch_op:
        batch_op.drop_index("ix_election_roles_user_id")

    op.drop_table("election_roles")
    with op.batch_alter_table("election_followers", schema=None) as batch_op:
        batch_op.drop_index("ix_election_followers_user_id")

    op.drop_table("election_followers")
    op.drop_table("election_candidates")
    op.drop_table("election_ballots")
    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.drop_index("ix_elections_state_closes_at")

    op.drop_table("elections")
