"""Value Codes have a short name: what findings and pages call them ("Issue resolution").

- ``value_code.short_name``: optional, at most 40 characters, unique within a library version (NULL: none;
  the library file checks uniqueness ignoring case).
- ``short_name_change``: a short name given, changed or removed by a later import of the same version. Short
  names are display metadata, not a version's content, so they may change on a stored version; each change
  is kept (before, after, the file it came from, when).

Existing Value Codes get no short name; importing their library file again (``vm library import``, or a run
whose configuration names the file) fills them in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('value_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_name', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(
            op.f('uq_value_code_library_version_id_short_name'), ['library_version_id', 'short_name']
        )
    op.create_table(
        'short_name_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value_code_id', sa.Integer(), nullable=False),
        sa.Column('before', sa.String(length=40), nullable=True),
        sa.Column('after', sa.String(length=40), nullable=True),
        sa.Column('source_name', sa.String(length=255), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['value_code_id'], ['value_code.id'], name=op.f('fk_short_name_change_value_code_id_value_code'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_short_name_change')),
    )
    op.create_index(
        op.f('ix_short_name_change_value_code_id'), 'short_name_change', ['value_code_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_short_name_change_value_code_id'), table_name='short_name_change')
    op.drop_table('short_name_change')
    with op.batch_alter_table('value_code', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_value_code_library_version_id_short_name'), type_='unique')
        batch_op.drop_column('short_name')
