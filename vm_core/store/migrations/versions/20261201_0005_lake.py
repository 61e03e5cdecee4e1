"""Evaluation lake: committed lake files, and what a load and a cycle's scores were computed from.

- ``lake_file``: the committed files of the evaluation lake (vm_core.lake.storage); a load is visible once its rows commit.
- ``source_load.model_fingerprint`` / ``.plan`` / ``.mapping``: the fingerprint of the mapping a source was
  modelled with, the connector's answer plan and the party and perspective rules themselves, so a changed
  configuration re-models from the lake without the file, and a group removed from it keeps mapping the past.
- ``cycle.scored_state`` / ``cycle.participants`` / ``cycle.audited_state``: what the stored scores were
  computed from, and what the last clean anonymity audit saw.

Evaluations stored in the ``evaluation`` table by earlier versions stay there, unread: their scores stay
published, and the next ``vm run`` reads each source's file again into the lake (its fingerprint has
no lake files yet).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lake_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('source_key', sa.String(length=100), nullable=False),
        sa.Column('table_name', sa.String(length=100), nullable=False),
        sa.Column('path', sa.String(length=1000), nullable=False),
        sa.Column('load_id', sa.String(length=40), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_lake_file_cycle_id_cycle'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lake_file')),
        sa.UniqueConstraint('path', name=op.f('uq_lake_file_path')),
    )
    op.create_index(op.f('ix_lake_file_cycle_id'), 'lake_file', ['cycle_id'], unique=False)
    with op.batch_alter_table('source_load', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_fingerprint', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('plan', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('mapping', sa.Text(), nullable=True))
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scored_state', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('participants', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('audited_state', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('audited_state')
        batch_op.drop_column('participants')
        batch_op.drop_column('scored_state')
    with op.batch_alter_table('source_load', schema=None) as batch_op:
        batch_op.drop_column('mapping')
        batch_op.drop_column('plan')
        batch_op.drop_column('model_fingerprint')
    op.drop_index(op.f('ix_lake_file_cycle_id'), table_name='lake_file')
    op.drop_table('lake_file')
