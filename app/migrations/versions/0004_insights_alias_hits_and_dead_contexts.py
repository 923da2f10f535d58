"""Insights for authors: old links that arrive by an alias, and context keys no page names.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "insights_alias_hits",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("page", sa.String(length=100), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "alias", "page"),
    )
    op.create_table(
        "insights_dead_contexts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("context", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("app_version", sa.String(length=24), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "context", "platform", "app_version"),
    )


def downgrade():
    op.drop_table("insights_dead_contexts")
    op.drop_table("insights_alias_hits")
