"""Creating and changing actions, with the history and without ever losing an edit.

**Optimistic concurrency.** An update names the version its editor saw. It is refused with
:class:`~vm_core.actions.errors.ActionConflict` when the action is at another version, whoever
changed it and whatever they changed, so two people editing the same action never overwrite
each other unseen: the first edit stays, the second is told who changed what and when, and can
apply its edit again to the newer version. The check is the database's: the update is
``UPDATE action … WHERE id = :id AND version = :seen``, so of two edits of one version that race
past the first read only one changes a row (PostgreSQL re-checks the condition once the other
transaction commits; SQLite lets one writer in at a time). ``action_change`` is unique per
(action, version) besides.

Both functions work in the caller's transaction (``vm_core.store.db.transaction``): the action,
its links and its history row commit together, or not at all.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from vm_core.actions.choices import find_cycle, find_relationship
from vm_core.actions.errors import ActionConflict, ActionError
from vm_core.actions.fields import ActionEdit, ActionFields, changes_between
from vm_core.actions.query import ActionView, get_action, history_since
from vm_core.actions.validate import checked, checked_editor
from vm_core.store.models import Action, ActionChange, ActionLink, Cycle, Party, Relationship, utcnow


def _party_id(session: Session, relationship_id: int, key: str | None) -> int | None:
    if key is None:
        return None
    return session.scalar(select(Party.id).where(Party.relationship_id == relationship_id, Party.key == key))


def _columns(session: Session, relationship_id: int, fields: ActionFields) -> dict[str, object]:
    """The ``action`` columns of ``fields`` (links live in ``action_link``)."""
    return {
        "title": fields.title,
        "description": fields.description,
        "finding_key": fields.finding_key,
        "mode": fields.mode,
        "owner_person": fields.owner_person,
        "owner_party_id": _party_id(session, relationship_id, fields.owner_party),
        "due_on": fields.due_on,
        "status": fields.status,
        "percent_complete": fields.percent_complete,
        "notes": fields.notes,
    }


def _write_links(session: Session, action_id: int, before: ActionFields | None, after: ActionFields) -> None:
    if before is not None and (before.value_codes, before.things) == (after.value_codes, after.things):
        return
    session.execute(delete(ActionLink).where(ActionLink.action_id == action_id))
    session.add_all(
        [ActionLink(action_id=action_id, kind="value_code", target=code) for code in after.value_codes]
        + [ActionLink(action_id=action_id, kind="thing", target=name) for name in after.things]
    )


def create_action(
    session: Session, relationship_key: str, cycle_number: int, edit: ActionEdit, *, by: str
) -> ActionView:
    """A new action of the relationship, raised by its cycle ``cycle_number``, at version 1.

    Fields the edit leaves unset take their defaults; the mode defaults to the cycle's.
    """
    by = checked_editor(by)
    relationship = find_relationship(session, relationship_key)
    cycle = find_cycle(session, relationship, cycle_number)
    fields = checked(session, relationship, cycle, edit.apply_to(ActionFields(mode=cycle.mode)))
    now = utcnow()
    action = Action(
        relationship_id=relationship.id,
        cycle_id=cycle.id,
        version=1,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
        **_columns(session, relationship.id, fields),
    )
    session.add(action)
    session.flush()
    _write_links(session, action.id, None, fields)
    session.add(
        ActionChange(
            action_id=action.id,
            version=1,
            changed_at=now,
            changed_by=by,
            changes=changes_between(None, fields),
        )
    )
    session.flush()
    return get_action(session, action.id)


def _conflict(session: Session, action_id: int, seen_version: int, edit: ActionEdit) -> ActionConflict:
    since = history_since(session, action_id, seen_version)
    return ActionConflict(action_id, seen_version, since[-1].version, since, edit)


def update_action(
    session: Session, action_id: int, seen_version: int, edit: ActionEdit, *, by: str
) -> ActionView:
    """Apply ``edit`` to the action as its editor saw it at ``seen_version``.

    Returns the action as it now is: one version later, or unchanged (same version, no history
    row) when the edit changes nothing. Raises :class:`ActionConflict` when the action is no
    longer at ``seen_version``, and :class:`ActionError` for anything invalid.
    """
    by = checked_editor(by)
    current = get_action(session, action_id)
    if seen_version > current.version or seen_version < 1:
        raise ActionError(
            f"action {action_id} has no version {seen_version}; it is at version {current.version}"
        )
    if seen_version != current.version:
        raise _conflict(session, action_id, seen_version, edit)
    row = session.get_one(Action, action_id)
    relationship = session.get_one(Relationship, row.relationship_id)
    cycle = session.get_one(Cycle, row.cycle_id)
    after = checked(session, relationship, cycle, edit.apply_to(current.fields), current.fields)
    changes = changes_between(current.fields, after)
    if not changes:
        return current
    now = utcnow()
    switched = cast(
        CursorResult[Any],
        session.execute(
            update(Action)
            .where(Action.id == action_id, Action.version == seen_version)
            .values(
                **_columns(session, relationship.id, after),
                version=seen_version + 1,
                updated_at=now,
                updated_by=by,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if switched.rowcount != 1:  # another edit committed since this one read the action
        raise _conflict(session, action_id, seen_version, edit)
    _write_links(session, action_id, current.fields, after)
    session.add(
        ActionChange(
            action_id=action_id, version=seen_version + 1, changed_at=now, changed_by=by, changes=changes
        )
    )
    session.flush()
    return get_action(session, action_id)
