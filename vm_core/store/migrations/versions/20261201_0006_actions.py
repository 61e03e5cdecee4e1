"""Improvement actions: what a relationship agreed to do, who owns it, and every edit.

- ``action``: one improvement action of a relationship, raised by a cycle (and perhaps a finding), with
  its owner (person and party), due date, status, % complete and an edit ``version`` for optimistic
  concurrency.
- ``action_link``: the Value Codes (by identifier) and Things That Matter (by name) it means to improve.
- ``action_change``: the history, one row per version: who, when, and each field before and after.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('relationship_id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('finding_key', sa.String(length=200), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('owner_person', sa.String(length=200), nullable=True),
        sa.Column('owner_party_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('percent_complete', sa.Integer(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=False),
        sa.CheckConstraint("mode IN ('resolve', 'solve', 'dissolve')", name=op.f('ck_action_mode_known')),
        sa.CheckConstraint(
            "status IN ('not_started', 'in_progress', 'on_hold', 'complete', 'cancelled')",
            name=op.f('ck_action_status_known'),
        ),
        sa.CheckConstraint('percent_complete BETWEEN 0 AND 100', name=op.f('ck_action_percent_complete_range')),
        sa.CheckConstraint(
            "status <> 'complete' OR percent_complete = 100", name=op.f('ck_action_complete_is_100_percent')
        ),
        sa.CheckConstraint('version >= 1', name=op.f('ck_action_version_positive')),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_action_cycle_id_cycle'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['owner_party_id'], ['party.id'], name=op.f('fk_action_owner_party_id_party'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(
            ['relationship_id'], ['relationship.id'], name=op.f('fk_action_relationship_id_relationship'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action')),
    )
    op.create_index(op.f('ix_action_relationship_id'), 'action', ['relationship_id'], unique=False)
    op.create_table(
        'action_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=False),
        sa.CheckConstraint("kind IN ('value_code', 'thing')", name=op.f('ck_action_link_kind_known')),
        sa.ForeignKeyConstraint(
            ['action_id'], ['action.id'], name=op.f('fk_action_link_action_id_action'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_link')),
        sa.UniqueConstraint('action_id', 'kind', 'target', name=op.f('uq_action_link_action_id_kind_target')),
    )
    op.create_table(
        'action_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by', sa.String(length=200), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ['action_id'], ['action.id'], name=op.f('fk_action_change_action_id_action'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_change')),
        sa.UniqueConstraint('action_id', 'version', name=op.f('uq_action_change_action_id_version')),
    )


def downgrade() -> None:
    op.drop_table('action_change')
    op.drop_table('action_link')
    op.drop_index(op.f('ix_action_relationship_id'), table_name='action')
    op.drop_table('action')
