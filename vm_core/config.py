"""Relationship configuration: the YAML a data engineer writes (``vm init`` scaffolds one).

Parsed into frozen dataclasses with one clear error per problem (file and key path).
Relative paths are resolved against the configuration file's folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vm_core.connector import SourceSpec
from vm_core.errors import ConfigError
from vm_core.keys import PARTY_KEY, PERSPECTIVE_KEY, RELATIONSHIP_KEY, SOURCE_KEY, KeyRule
from vm_core.models import CYCLE_MODES, MIN_GROUP_SIZE_FLOOR


@dataclass(frozen=True)
class PartyConfig:
    key: str
    name: str
    role: str
    match: tuple[str, ...]


@dataclass(frozen=True)
class PerspectiveConfig:
    key: str
    name: str


@dataclass(frozen=True)
class EquivalenceConfig:
    party: str | None  # None: any party
    role: str  # shell-style wildcard pattern, case-insensitive
    perspective: str


@dataclass(frozen=True)
class CycleConfig:
    number: int
    mode: str
    opens: dt.date | None
    closes: dt.date | None
    library_version: str
    invited: Mapping[str, Mapping[str, int]]  # party -> perspective (or "all") -> count
    sources: tuple[SourceSpec, ...]


@dataclass(frozen=True)
class LibraryConfig:
    key: str
    name: str
    version: str
    file: Path | None


@dataclass(frozen=True)
class RelationshipConfig:
    path: Path
    key: str
    name: str
    min_group_size: int
    agreement: Mapping[str, float]
    library: LibraryConfig
    parties: tuple[PartyConfig, ...]
    perspectives: tuple[PerspectiveConfig, ...]
    equivalences: tuple[EquivalenceConfig, ...]
    levels: Mapping[str, int | None]  # extra answer texts -> level (None = no level)
    cycles: tuple[CycleConfig, ...] = field(default=())

    def cycle(self, number: int) -> CycleConfig:
        for cycle in self.cycles:
            if cycle.number == number:
                return cycle
        known = ", ".join(str(c.number) for c in self.cycles) or "none"
        raise ConfigError(f"{self.path.name}: no cycle {number} (configured: {known})")


class _Reader:
    """Typed access to a YAML mapping that names the file and key path in every error."""

    def __init__(self, file: str, data: Any, where: str = ""):
        if not isinstance(data, Mapping):
            raise ConfigError(f"{file}: {where or 'top level'} must be a mapping")
        self.file, self.data, self.where = file, data, where

    def _fail(self, key: str, message: str) -> ConfigError:
        path = f"{self.where}.{key}" if self.where else key
        return ConfigError(f"{self.file}: {path}: {message}")

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = True
    ) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is not ...:
                return default
            raise self._fail(key, "is required")
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self._fail(key, f"must be {names}, not {type(value).__name__} {value!r}")
        return value

    def key(self, key: str, rule: KeyRule, default: Any = ...) -> str:
        """A key checked against its documented pattern (``vm_core.keys``)."""
        value: str = self.get(key, str, default)
        problem = rule.problem(value)
        if problem:
            raise self._fail(key, problem)
        return value

    def child(self, key: str, value: Any) -> _Reader:
        return _Reader(self.file, value, f"{self.where}.{key}" if self.where else key)

    def items(self, key: str) -> list[_Reader]:
        values = self.get(key, list, default=[])
        return [self.child(f"{key}[{i}]", v) for i, v in enumerate(values)]


def _date(reader: _Reader, key: str) -> dt.date | None:
    value = reader.get(key, (dt.date, str), default=None)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise reader._fail(key, f"is not a date (YYYY-MM-DD): {value!r}") from None
    return value if isinstance(value, dt.date) else None


def load_config(path: Path | str) -> RelationshipConfig:
    path = Path(path).resolve()
    file = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}".replace("\n", " ")) from None
    top = _Reader(file, raw)
    rel = top.child("relationship", top.get("relationship", dict))
    key = rel.key("key", RELATIONSHIP_KEY)
    min_group = rel.get("min_group_size", int, default=5)
    if min_group < MIN_GROUP_SIZE_FLOOR:
        raise rel._fail("min_group_size", f"must be at least {MIN_GROUP_SIZE_FLOOR}, not {min_group}")
    agreement = rel.get("agreement", dict, default={})

    lib = top.child("library", top.get("library", dict))
    lib_file = lib.get("file", str, default=None)
    library = LibraryConfig(
        key=lib.get("key", str, default=key),
        name=lib.get("name", str, default=f"{rel.get('name', str, default=key)} library"),
        version=str(lib.get("version", (str, int, float))),
        file=(path.parent / lib_file) if lib_file else None,
    )

    parties = tuple(
        PartyConfig(
            key=p.key("key", PARTY_KEY),
            name=p.get("name", str),
            role=p.get("role", str, default="party"),
            match=tuple(p.get("match", list, default=[p.get("name", str)])),
        )
        for p in top.items("parties")
    )
    if not parties:
        raise ConfigError(f"{file}: parties: at least one party is required")
    party_keys = {p.key for p in parties}
    perspectives = tuple(
        PerspectiveConfig(key=p.key("key", PERSPECTIVE_KEY), name=p.get("name", str))
        for p in top.items("perspectives")
    )
    perspective_keys = {p.key for p in perspectives}
    for kind, keys in (
        ("parties", [p.key for p in parties]),
        ("perspectives", [p.key for p in perspectives]),
    ):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ConfigError(f"{file}: {kind}: duplicate key {dupes[0]!r}")
    both = sorted(party_keys & perspective_keys)
    if both:
        # a group name alone ("senior") must say whether it is a party or a perspective
        raise ConfigError(f"{file}: perspectives: {both[0]!r} is already a party key; use another key")

    equivalences = []
    for e in top.items("equivalences"):
        party = e.get("party", str, default="*")
        perspective = e.get("perspective", str)
        if party != "*" and party not in party_keys:
            raise e._fail("party", f"unknown party {party!r} (parties: {', '.join(sorted(party_keys))})")
        if perspective not in perspective_keys:
            raise e._fail("perspective", f"unknown perspective {perspective!r}")
        equivalences.append(
            EquivalenceConfig(None if party == "*" else party, e.get("role", str), perspective)
        )

    levels_raw = top.get("levels", dict, default={})
    levels: dict[str, int | None] = {}
    for text, level in levels_raw.items():
        if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
            raise ConfigError(f"{file}: levels.{text}: must be a level 1-5 or null (no level), not {level!r}")
        levels[str(text)] = level

    cycles = []
    for c in top.items("cycles"):
        mode = c.get("mode", str).lower()
        if mode not in CYCLE_MODES:
            raise c._fail("mode", f"must be one of {', '.join(CYCLE_MODES)}, not {mode!r}")
        number = c.get("number", int)
        sources = []
        for s in c.items("sources"):
            source_key = s.key("key", SOURCE_KEY, default=s.get("connector", str))
            sources.append(
                SourceSpec(
                    key=source_key,
                    connector=s.get("connector", str),
                    path=(path.parent / s.get("path", str)).resolve(),
                    options=s.get("options", dict, default={}),
                )
            )
        keys = [s.key for s in sources]
        if len(set(keys)) != len(keys):
            raise c._fail("sources", "two sources share a key; give each a distinct `key`")
        invited = c.get("invited", dict, default={})
        for party in invited:
            if party not in party_keys:
                raise c._fail("invited", f"unknown party {party!r}")
        cycles.append(
            CycleConfig(
                number=number,
                mode=mode,
                opens=_date(c, "opens"),
                closes=_date(c, "closes"),
                library_version=str(c.get("library_version", (str, int, float), default=library.version)),
                invited=invited,
                sources=tuple(sources),
            )
        )
    numbers = [c.number for c in cycles]
    if len(set(numbers)) != len(numbers):
        raise ConfigError(f"{file}: cycles: duplicate cycle number")

    return RelationshipConfig(
        path=path,
        key=key,
        name=rel.get("name", str, default=key),
        min_group_size=min_group,
        agreement=agreement,
        library=library,
        parties=parties,
        perspectives=perspectives,
        equivalences=tuple(equivalences),
        levels=levels,
        cycles=tuple(sorted(cycles, key=lambda c: c.number)),
    )
