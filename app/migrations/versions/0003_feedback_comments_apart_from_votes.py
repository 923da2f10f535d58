"""Comments apart from votes: a later post replaces a vote, never a comment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feedback_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_comments_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_comments_slug"), ["slug"], unique=False)
    op.execute(
        "INSERT INTO feedback_comments (day, slug, lang, comment, created_at) "
        "SELECT day, slug, lang, comment, created_at FROM feedback_votes WHERE comment IS NOT NULL"
    )
    with op.batch_alter_table("feedback_votes", schema=None) as batch_op:
        batch_op.drop_column("comment")


def downgrade():
    with op.batch_alter_table("feedback_votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
    with op.batch_alter_table("feedback_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_comments_slug"))
        batch_op.drop_index(batch_op.f("ix_feedback_comments_day"))
    op.drop_table("feedback_comments")
