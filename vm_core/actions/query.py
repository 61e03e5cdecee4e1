"""Reading actions: one action, a filtered list, and an action's history. Nothing here writes.

*Overdue* means the due date is past (before ``today``) and the action is neither complete nor
cancelled; an action due today is not overdue yet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from vm_core.actions.errors import ActionError, ActionNotFound
from vm_core.actions.fields import ActionFields, status_key
from vm_core.store.models import (
    ACTION_STATUSES,
    CLOSED_ACTION_STATUSES,
    Action,
    ActionChange,
    ActionLink,
    Cycle,
    Party,
    Relationship,
)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back without a zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def is_overdue(due_on: dt.date | None, status: str, today: dt.date) -> bool:
    return due_on is not None and due_on < today and status not in CLOSED_ACTION_STATUSES


@dataclass(frozen=True)
class ActionView:
    """One action as read: its fields, where it belongs, its version and who last touched it."""

    id: int
    relationship: str
    cycle: int
    fields: ActionFields
    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    overdue: bool


@dataclass(frozen=True)
class ActionChangeView:
    """One version of an action's history: who, when, and ``{field: (before, after)}``."""

    version: int
    at: dt.datetime
    by: str
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class ActionFilter:
    """Which actions to list; every criterion given must hold. Text matches ignore case."""

    relationship: str | None = None
    #: the cycle that raised them
    cycle: int | None = None
    #: any of these statuses (empty: any status)
    statuses: tuple[str, ...] = ()
    #: part of the owner's name
    owner: str | None = None
    #: the owning party's key
    party: str | None = None
    #: linked to this Value Code identifier
    code: str | None = None
    #: linked to this Thing That Matters
    thing: str | None = None
    #: due on or after this date
    due_from: dt.date | None = None
    #: due strictly before this date
    due_before: dt.date | None = None
    overdue: bool = False


#: An action, its relationship's key, its cycle's number and its owning party's key (None: no owner).
_Rows = Select[Action, str, int, str]


def _linked_to(kind: str, target: str) -> Select[int]:
    return select(ActionLink.action_id).where(
        ActionLink.kind == kind, func.lower(ActionLink.target) == target.strip().lower()
    )


def _filtered(query: _Rows, wanted: ActionFilter, today: dt.date) -> _Rows:
    if wanted.relationship is not None:
        query = query.where(Relationship.key == wanted.relationship)
    if wanted.cycle is not None:
        query = query.where(Cycle.number == wanted.cycle)
    if wanted.statuses:
        statuses = [status_key(s) for s in wanted.statuses]
        unknown = [s for s in statuses if s not in ACTION_STATUSES]
        if unknown:
            raise ActionError(f"status {unknown[0]!r} is not one of: {', '.join(ACTION_STATUSES)}")
        query = query.where(Action.status.in_(statuses))
    if wanted.owner:
        query = query.where(
            func.lower(Action.owner_person).contains(wanted.owner.strip().lower(), autoescape=True)
        )
    if wanted.party:
        query = query.where(Party.key == wanted.party.strip().lower())
    if wanted.code:
        query = query.where(Action.id.in_(_linked_to("value_code", wanted.code)))
    if wanted.thing:
        query = query.where(Action.id.in_(_linked_to("thing", wanted.thing)))
    if wanted.due_from is not None:
        query = query.where(Action.due_on >= wanted.due_from)
    if wanted.due_before is not None:
        query = query.where(Action.due_on < wanted.due_before)
    if wanted.overdue:
        query = query.where(Action.due_on < today, Action.status.not_in(CLOSED_ACTION_STATUSES))
    return query


def _base() -> _Rows:
    return (
        select(Action, Relationship.key, Cycle.number, Party.key)
        .join(Relationship, Relationship.id == Action.relationship_id)
        .join(Cycle, Cycle.id == Action.cycle_id)
        .outerjoin(Party, Party.id == Action.owner_party_id)
    )


def _views(session: Session, query: _Rows, today: dt.date) -> list[ActionView]:
    rows = session.execute(
        query.order_by(Relationship.key, Action.due_on.is_(None), Action.due_on, Action.id).execution_options(
            populate_existing=True  # another session may have changed it since this one read it
        )
    ).all()
    links: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if rows:
        ids = [action.id for action, *_ in rows]
        for link in session.scalars(
            select(ActionLink).where(ActionLink.action_id.in_(ids)).order_by(ActionLink.id)
        ):
            links[link.action_id][link.kind].append(link.target)
    views = []
    for action, relationship, cycle, party in rows:
        linked = links[action.id]
        fields = ActionFields(
            title=action.title,
            description=action.description,
            value_codes=tuple(linked["value_code"]),
            things=tuple(linked["thing"]),
            finding_key=action.finding_key,
            mode=action.mode,
            owner_person=action.owner_person,
            owner_party=party,
            due_on=action.due_on,
            status=action.status,
            percent_complete=action.percent_complete,
            notes=action.notes,
        )
        views.append(
            ActionView(
                id=action.id,
                relationship=relationship,
                cycle=cycle,
                fields=fields,
                version=action.version,
                created_at=as_utc(action.created_at),
                created_by=action.created_by,
                updated_at=as_utc(action.updated_at),
                updated_by=action.updated_by,
                overdue=is_overdue(action.due_on, action.status, today),
            )
        )
    return views


def list_actions(
    session: Session, wanted: ActionFilter | None = None, *, today: dt.date | None = None
) -> list[ActionView]:
    """The actions matching ``wanted`` by relationship, then due date (undated last), then id."""
    today = today or dt.date.today()
    return _views(session, _filtered(_base(), wanted or ActionFilter(), today), today)


def get_action(session: Session, action_id: int, *, today: dt.date | None = None) -> ActionView:
    today = today or dt.date.today()
    found = _views(session, _base().where(Action.id == action_id), today)
    if not found:
        raise ActionNotFound(f"no action {action_id} in the store")
    return found[0]


def action_history(session: Session, action_id: int) -> list[ActionChangeView]:
    """Every version of the action, oldest first; version 1 is its creation."""
    changes = session.scalars(
        select(ActionChange).where(ActionChange.action_id == action_id).order_by(ActionChange.version)
    ).all()
    if not changes:
        get_action(session, action_id)  # ActionNotFound, or an action with no history (never written so)
    return [
        ActionChangeView(
            version=c.version,
            at=as_utc(c.changed_at),
            by=c.changed_by,
            changes={name: (before, after) for name, (before, after) in c.changes.items()},
        )
        for c in changes
    ]


def history_since(session: Session, action_id: int, version: int) -> Sequence[ActionChangeView]:
    """The versions after ``version``: what an editor who saw ``version`` has not seen."""
    return [c for c in action_history(session, action_id) if c.version > version]
