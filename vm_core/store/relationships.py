"""Bring the store in line with a relationship configuration (idempotent).

Parties and perspectives are created or updated from what the file says; one that left the
file is *retired* (``retired_at`` set), never deleted, so the evaluations and scores of past
cycles stay exactly as they were, and it is reinstated when its key comes back. The
equivalence map is replaced; cycles are created or updated; the library file the configuration
names is imported as its version (a new version is stored; a stored one must have the same
content, and takes the file's short names), and the Value Codes the sources' options name are
checked against each cycle's version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from vm_core.config import RelationshipConfig, check_value_codes
from vm_core.errors import ConfigError
from vm_core.ingest.mapping import PartyRule, PerspectiveRule
from vm_core.keys import storage_name
from vm_core.store import library as library_store
from vm_core.store.models import (
    Cycle,
    InvitedCount,
    LibraryVersion,
    Party,
    Perspective,
    PerspectiveEquivalence,
    Relationship,
    ValueCode,
    utcnow,
)


def ensure_library(session: Session, config: RelationshipConfig, version: str) -> LibraryVersion:
    """The stored library version a cycle uses; the configuration's file is imported when it is that version.

    Importing a stored version again is how its short names follow the file (display metadata); a file
    whose content differs from the stored version is refused (:func:`library_store.import_library`).
    """
    lib = config.library
    if lib.file is not None and version == lib.version:
        parsed = library_store.parse_library(lib.file)
        return library_store.import_library(
            session, parsed, key=lib.key, name=lib.name, version=version, source_name=lib.file.name
        )
    found = library_store.find_library_version(session, lib.key, version)
    if found is None:
        raise library_not_stored(config, version)
    return found


def library_not_stored(config: RelationshipConfig, version: str) -> ConfigError:
    """The error for a cycle's library version that neither the configured file nor the store holds."""
    key = config.library.key
    return ConfigError(
        f"{config.path.name}: library {key!r} version {version!r} is not in the store; "
        f"import it with `vm library import FILE --key {key} --version {version}`"
    )


_Keyed = TypeVar("_Keyed", Party, Perspective)


def _upsert_by_key(
    session: Session, model: type[_Keyed], relationship_id: int, wanted: dict[str, dict[str, object]]
) -> dict[str, _Keyed]:
    """Create or update the configured rows; retire (never delete) the ones that left the file."""
    existing = {
        row.key: row for row in session.scalars(select(model).where(model.relationship_id == relationship_id))
    }
    now = utcnow()
    for key, row in existing.items():
        if key not in wanted and row.retired_at is None:
            row.retired_at = now  # deleting it would cascade to the scores of past cycles
    result: dict[str, _Keyed] = {}
    for key, values in wanted.items():
        row = existing.get(key) or model(relationship_id=relationship_id, key=key)
        for attr, value in values.items():
            setattr(row, attr, value)
        row.retired_at = None
        session.add(row)
        result[key] = row
    session.flush()
    return result


def active_parties(session: Session, relationship_id: int) -> Sequence[Party]:
    """The relationship's parties in the configuration now (not retired), in configured order."""
    return session.scalars(
        select(Party)
        .where(Party.relationship_id == relationship_id, Party.retired_at.is_(None))
        .order_by(Party.position)
    ).all()


def active_perspectives(session: Session, relationship_id: int) -> Sequence[Perspective]:
    """The relationship's perspectives in the configuration now (not retired), in configured order."""
    return session.scalars(
        select(Perspective)
        .where(Perspective.relationship_id == relationship_id, Perspective.retired_at.is_(None))
        .order_by(Perspective.position)
    ).all()


def _refuse_shared_storage(session: Session, config: RelationshipConfig) -> None:
    """A new key may not land where a stored one does (keys stored before ``vm_core.keys`` existed)."""
    name = storage_name(config.key)
    for other in session.scalars(select(Relationship.key)):
        if storage_name(other) == name:
            raise ConfigError(
                f"{config.path.name}: relationship.key: {config.key!r} would share its landing dataset with "
                f"relationship {other!r} already in the store (both become {name!r}); choose another key"
            )


def sync_relationship(session: Session, config: RelationshipConfig) -> Relationship:
    rel = session.scalar(select(Relationship).where(Relationship.key == config.key))
    if rel is None:
        _refuse_shared_storage(session, config)
        rel = Relationship(key=config.key)
        session.add(rel)
    rel.name = config.name
    rel.min_group_size = config.min_group_size
    rel.comment_min_group_size = config.comment_min_group_size
    rel.agreement = dict(config.agreement)
    session.flush()

    parties = _upsert_by_key(
        session,
        Party,
        rel.id,
        {
            p.key: {"name": p.name, "role": p.role, "match": list(p.match), "position": i}
            for i, p in enumerate(config.parties)
        },
    )
    perspectives = _upsert_by_key(
        session,
        Perspective,
        rel.id,
        {p.key: {"name": p.name, "position": i} for i, p in enumerate(config.perspectives)},
    )
    session.execute(delete(PerspectiveEquivalence).where(PerspectiveEquivalence.relationship_id == rel.id))
    session.add_all(
        PerspectiveEquivalence(
            relationship_id=rel.id,
            party_id=parties[e.party].id if e.party else None,
            role_pattern=e.role,
            perspective_id=perspectives[e.perspective].id,
            position=i,
        )
        for i, e in enumerate(config.equivalences)
    )

    identifiers: dict[str, set[str]] = {}
    for c in config.cycles:
        version = ensure_library(session, config, c.library_version)
        if c.library_version not in identifiers:
            identifiers[c.library_version] = set(
                session.scalars(
                    select(ValueCode.identifier).where(ValueCode.library_version_id == version.id)
                )
            )
        cycle = session.scalar(select(Cycle).where(Cycle.relationship_id == rel.id, Cycle.number == c.number))
        if cycle is None:
            cycle = Cycle(relationship_id=rel.id, number=c.number)
            session.add(cycle)
        cycle.mode, cycle.opens_on, cycle.closes_on = c.mode, c.opens, c.closes
        cycle.library_version_id = version.id
        session.flush()
        # the file's counts replace those of configured groups; a retired group's counts are its past
        session.execute(
            delete(InvitedCount).where(
                InvitedCount.cycle_id == cycle.id,
                InvitedCount.party_id.in_([p.id for p in parties.values()]),
                or_(
                    InvitedCount.perspective_id.is_(None),
                    InvitedCount.perspective_id.in_([p.id for p in perspectives.values()]),
                ),
            )
        )
        session.flush()
        for party_key, per_perspective in c.invited.items():
            for perspective_key, invited in per_perspective.items():
                perspective_id = None if perspective_key == "all" else perspectives[perspective_key].id
                session.add(
                    InvitedCount(
                        cycle_id=cycle.id,
                        party_id=parties[party_key].id,
                        perspective_id=perspective_id,
                        invited=invited,
                    )
                )
    check_value_codes(config, identifiers)  # the library may have come from the store, not the file
    session.flush()
    return rel


def party_rules(config: RelationshipConfig) -> list[PartyRule]:
    return [PartyRule(p.key, p.match) for p in config.parties]


def perspective_rules(config: RelationshipConfig) -> list[PerspectiveRule]:
    return [PerspectiveRule(e.party, e.role, e.perspective) for e in config.equivalences]
