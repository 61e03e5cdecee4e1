"""Checking an action's fields against its relationship: one clear line for whatever is wrong.

Links are resolved in the library version of the cycle that raised the action, ignoring case
(Value Code identifiers are unique ignoring case; so are the names of Things That Matter), and
stored as that library spells them. Only what an edit *changes* is looked up again: a link or an
owner party kept from before stays valid even after the library or the parties moved on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.actions.choices import current_parties, library_codes, library_things
from vm_core.actions.errors import ActionError
from vm_core.actions.fields import COMPLETE, ActionFields
from vm_core.config import did_you_mean
from vm_core.store.models import (
    ACTION_STATUSES,
    CYCLE_MODES,
    Cycle,
    Library,
    LibraryVersion,
    Relationship,
)

#: Longest title, owner, finding key or editor name (the columns' width).
MAX_NAME_LENGTH: Final = 200


def checked_editor(by: str) -> str:
    """Who makes a change: required, as the history will name them."""
    return _text("by (who makes the change)", by, required=True)


def _text(
    label: str, value: str | None, *, required: bool = False, limit: int | None = MAX_NAME_LENGTH
) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ActionError(f"{label} is required")
    if limit is not None and len(text) > limit:
        raise ActionError(f"{label} is at most {limit} characters, got {len(text)}")
    return text


def _optional(label: str, value: str | None) -> str | None:
    return _text(label, value) or None


def _one_of(label: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ActionError(f"{label} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _percent(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ActionError(f"% complete must be a whole number from 0 to 100, got {value!r}")
    return value


def _resolved(
    kind: str, given: Iterable[str], kept: Sequence[str], known: Sequence[str], where: str
) -> tuple[str, ...]:
    """``given`` spelt as ``known`` spells it (ignoring case), each once, in order; ``kept`` (already
    linked) needs no lookup."""
    by_fold = {name.casefold(): name for name in (*known, *kept)}
    resolved: list[str] = []
    for raw in given:
        name = raw.strip()
        canonical = by_fold.get(name.casefold())
        if canonical is None:
            raise ActionError(f"{kind} {name!r} is not in {where}{did_you_mean(name, sorted(known))}")
        if canonical not in resolved:
            resolved.append(canonical)
    return tuple(resolved)


def _library_label(session: Session, cycle: Cycle) -> str:
    key, version = session.execute(
        select(Library.key, LibraryVersion.version)
        .join(LibraryVersion, LibraryVersion.library_id == Library.id)
        .where(LibraryVersion.id == cycle.library_version_id)
    ).one()
    return f"library {key!r} version {version!r} (used by cycle {cycle.number})"


def _links(
    session: Session, cycle: Cycle, fields: ActionFields, previous: ActionFields | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    kept_codes = previous.value_codes if previous else ()
    kept_things = previous.things if previous else ()
    if set(fields.value_codes) <= set(kept_codes) and set(fields.things) <= set(kept_things):
        return tuple(dict.fromkeys(fields.value_codes)), tuple(dict.fromkeys(fields.things))  # nothing new
    where = _library_label(session, cycle)
    codes, things = library_codes(session, cycle), library_things(session, cycle)
    return (
        _resolved("Value Code", fields.value_codes, kept_codes, codes, where),
        _resolved("Thing That Matters", fields.things, kept_things, things, where),
    )


def _party(session: Session, relationship: Relationship, key: str | None, kept: str | None) -> str | None:
    wanted = (key or "").strip().lower()
    if not wanted:
        return None
    if wanted == kept:
        return kept  # a party retired since it was assigned keeps its actions
    parties = list(current_parties(session, relationship))
    if wanted not in parties:
        raise ActionError(
            f"owner party {key!r} is not a party of relationship {relationship.key!r} "
            f"(parties: {', '.join(parties)})"
        )
    return wanted


def checked(
    session: Session,
    relationship: Relationship,
    cycle: Cycle,
    fields: ActionFields,
    previous: ActionFields | None = None,
) -> ActionFields:
    """``fields`` normalised (trimmed, links and party as stored), or :class:`ActionError`."""
    status = _one_of("status", fields.status, ACTION_STATUSES)
    percent = _percent(fields.percent_complete)
    if status == COMPLETE and percent != 100:
        raise ActionError(
            f"a complete action is 100% complete, got {percent}%: give 100, or another status "
            "(e.g. in_progress) to reopen it"
        )
    codes, things = _links(session, cycle, fields, previous)
    return ActionFields(
        title=_text("title", fields.title, required=True),
        description=_text("description", fields.description, limit=None),
        value_codes=codes,
        things=things,
        finding_key=_optional("finding key", fields.finding_key),
        mode=_one_of("mode", fields.mode.strip().lower(), CYCLE_MODES),
        owner_person=_optional("owner", fields.owner_person),
        owner_party=_party(
            session, relationship, fields.owner_party, previous.owner_party if previous else None
        ),
        due_on=fields.due_on,
        status=status,
        percent_complete=percent,
        notes=_text("notes", fields.notes, limit=None),
    )
