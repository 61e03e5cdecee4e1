"""Retire, never delete: parties and perspectives that leave the configuration keep their past.

- ``party.retired_at``, ``perspective.retired_at``: when the key left the relationship file (NULL while it
  is configured). ``sync_relationship`` used to delete such rows, which cascaded to the scores of past
  cycles; it now sets this column, and clears it when the key comes back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('perspective', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('perspective', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
