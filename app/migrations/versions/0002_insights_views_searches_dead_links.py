"""Insights for authors: page views, searches (with their readers, for the threshold) and dead links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "insights_dead_links",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("referrer", sa.String(length=253), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("suggestion", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("day", "slug", "referrer"),
    )
    op.create_table(
        "insights_page_views",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "slug", "lang"),
    )
    op.create_table(
        "insights_search_readers",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("day", "reader"),
    )
    with op.batch_alter_table("insights_search_readers", schema=None) as batch_op:
        batch_op.create_index("ix_insights_search_readers_query", ["day", "lang", "query"], unique=False)

    op.create_table(
        "insights_searches",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("no_results", sa.Integer(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.String(length=200), nullable=True),
        sa.Column("readers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "lang", "query"),
    )


def downgrade():
    op.drop_table("insights_searches")
    with op.batch_alter_table("insights_search_readers", schema=None) as batch_op:
        batch_op.drop_index("ix_insights_search_readers_query")

    op.drop_table("insights_search_readers")
    op.drop_table("insights_page_views")
    op.drop_table("insights_dead_links")
