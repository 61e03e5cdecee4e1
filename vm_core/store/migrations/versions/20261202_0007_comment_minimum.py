"""Comments have a minimum group size of their own.

- ``relationship.comment_min_group_size``: fewest respondents who commented for a group's comments to be
  shown (NULL: the default, 10). A check constraint keeps it at or above ``min_group_size``: comments are
  never released for a group smaller than the scores' minimum.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_min_group_size', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_relationship_comment_minimum_at_least_min_group_size'),
            'comment_min_group_size IS NULL OR comment_min_group_size >= min_group_size',
        )


def downgrade() -> None:
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_relationship_comment_minimum_at_least_min_group_size'), type_='check')
        batch_op.drop_column('comment_min_group_size')
