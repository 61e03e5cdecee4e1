"""Actions from a file: a team's existing action list, or the demo's, added once.

The file is YAML: ``actions:`` is a list, each item the fields of one action plus the ``cycle``
that raised it::

    actions:
      - cycle: 1
        title: Publish the escalation log to both boards every month
        value_codes: [REL-OPENNESS]
        owner_person: Priya Shah
        owner_party: contoso
        due_on: 2024-06-30
        status: complete

Importing is idempotent: an action whose relationship, cycle and title are already there is
left as it is (a second import adds nothing and changes nothing). Every item is checked like
an action typed by hand (:func:`vm_core.actions.validate.checked`); the first bad item stops
the import with one line naming the file, the item and the field, and nothing of the file is
added (the caller's transaction rolls back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.actions.choices import find_cycle, find_relationship
from vm_core.actions.errors import ActionError
from vm_core.actions.fields import ActionEdit
from vm_core.actions.write import create_action
from vm_core.config import did_you_mean
from vm_core.store.models import Action

_EDITABLE = tuple(f.name for f in fields(ActionEdit))
_LISTS = ("value_codes", "things")


@dataclass(frozen=True)
class Imported:
    added: list[int]  # new action ids, in file order
    already_there: int  # items whose (cycle, title) the relationship already had


def _edit(item: dict[str, Any], where: str) -> ActionEdit:
    given: dict[str, Any] = {}
    for key, value in item.items():
        if key == "cycle":
            continue
        if key not in _EDITABLE:
            raise ActionError(f"{where}: unknown field {key!r}{did_you_mean(key, _EDITABLE)}")
        if key in _LISTS:
            value = (value,) if isinstance(value, str) else tuple(str(v) for v in value or ())
        elif key == "due_on" and value is not None and not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value))
            except ValueError:
                raise ActionError(f"{where}: due_on {value!r} is not a date (YYYY-MM-DD)") from None
        given[key] = value
    return ActionEdit(**given)


def import_actions(session: Session, relationship_key: str, path: Path, *, by: str) -> Imported:
    """Add the actions of the YAML file ``path`` the relationship does not have yet (module docstring)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ActionError(f"{path.name}: cannot read it ({exc})") from None
    items = document.get("actions") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ActionError(f"{path.name}: expected a list under `actions:`")
    relationship = find_relationship(session, relationship_key)
    added: list[int] = []
    already = 0
    for number, item in enumerate(items, start=1):
        where = f"{path.name}, action {number}"
        if not isinstance(item, dict) or not isinstance(item.get("cycle"), int):
            raise ActionError(f"{where}: expected the fields of an action, with `cycle:` a cycle number")
        title = str(item.get("title") or "").strip()
        try:
            cycle = find_cycle(session, relationship, item["cycle"])
            exists = session.scalar(
                select(Action.id).where(
                    Action.relationship_id == relationship.id,
                    Action.cycle_id == cycle.id,
                    Action.title == title,
                )
            )
            if exists is not None:
                already += 1
                continue
            view = create_action(session, relationship_key, item["cycle"], _edit(item, where), by=by)
        except ActionError as exc:
            raise ActionError(exc.args[0] if str(exc).startswith(where) else f"{where}: {exc}") from None
        added.append(view.id)
    return Imported(added, already)
