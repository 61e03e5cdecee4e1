"""What a user edits on an action: every field (:class:`ActionFields`), an edit (:class:`ActionEdit`),
and what an edit changed (:func:`changes_between`, the form the history stores).

**% complete and status** (the rule, decided once): a *complete* action is 100 % complete, always
(a check constraint on ``action``). An edit that marks an action complete without saying the
% sets it to 100; one that says complete with less than 100, or lowers the % of a complete action
without reopening it, is refused. 100 % with any other status is allowed (the work is done, the
sign-off is not); cancelling keeps the % reached.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

COMPLETE: Final = "complete"


def status_key(value: str) -> str:
    """``"In progress"``, ``"in-progress"`` and ``"in_progress"`` all name the stored ``in_progress``."""
    return "_".join(value.strip().lower().replace("-", " ").split())


@dataclass(frozen=True)
class ActionFields:
    """Every field an editor sets, as stored (after :func:`vm_core.actions.validate.checked`)."""

    title: str = ""
    description: str = ""
    #: Value Code identifiers, as the library of the raising cycle spells them, in the order given
    value_codes: tuple[str, ...] = ()
    #: Things That Matter, by name, as that library spells them
    things: tuple[str, ...] = ()
    finding_key: str | None = None
    mode: str = "resolve"
    owner_person: str | None = None
    #: the owning party's key
    owner_party: str | None = None
    due_on: dt.date | None = None
    status: str = "not_started"
    percent_complete: int = 0
    notes: str = ""


FIELD_NAMES: Final = tuple(f.name for f in dataclasses.fields(ActionFields))


class Unset(Enum):
    """The value of a field an edit leaves as it is."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


@dataclass(frozen=True)
class ActionEdit:
    """What an editor changed; a field left :data:`UNSET` keeps its value (on create: its default).

    ``None`` (or an empty text) clears an optional field; ``()`` removes every link of a kind.
    """

    title: str | Unset = UNSET
    description: str | Unset = UNSET
    value_codes: tuple[str, ...] | Unset = UNSET
    things: tuple[str, ...] | Unset = UNSET
    finding_key: str | Unset | None = UNSET
    mode: str | Unset = UNSET
    owner_person: str | Unset | None = UNSET
    owner_party: str | Unset | None = UNSET
    due_on: dt.date | Unset | None = UNSET
    status: str | Unset = UNSET
    percent_complete: int | Unset = UNSET
    notes: str | Unset = UNSET

    def given(self) -> dict[str, Any]:
        """The fields this edit sets, by name."""
        return {name: getattr(self, name) for name in FIELD_NAMES if getattr(self, name) is not UNSET}

    def apply_to(self, current: ActionFields) -> ActionFields:
        """``current`` with this edit's fields; marking complete without a % makes it 100 (module doc)."""
        given = self.given()
        if isinstance(given.get("status"), str):
            given["status"] = status_key(given["status"])
            if given["status"] == COMPLETE and "percent_complete" not in given:
                given["percent_complete"] = 100
        return dataclasses.replace(current, **given)


def _stored(value: Any) -> Any:
    """A field's value as the history's JSON keeps it: dates as ISO text, links as lists."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == ()


def changes_between(before: ActionFields | None, after: ActionFields) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field that differs; from nothing (``before`` None) every
    field with a value. JSON-ready: this is what ``action_change.changes`` stores."""
    if before is None:
        return {
            name: [None, _stored(getattr(after, name))]
            for name in FIELD_NAMES
            if not _empty(getattr(after, name))
        }
    return {
        name: [_stored(getattr(before, name)), _stored(getattr(after, name))]
        for name in FIELD_NAMES
        if getattr(before, name) != getattr(after, name)
    }
