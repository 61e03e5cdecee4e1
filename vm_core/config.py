"""Relationship configuration: the YAML a data engineer writes (``vm init`` scaffolds one).

Parsed into frozen dataclasses with one clear error per problem (file and key path).
Relative paths are resolved against the configuration file's folder. Every mapping except
``levels`` (free text -> level) accepts only the keys documented here: a misspelt key is an
error with the nearest known key ("did you mean ..."), never silently ignored. Connector
names and their ``options`` are checked against the installed connectors, and Value Codes
named in options against the library file when the configuration gives one
(:func:`check_value_codes`; ``sync_relationship`` checks again against the store).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vm_core.errors import ConfigError
from vm_core.ingest.connector import ORGANISATION, ROLE, Connector, ParticipantListSpec, SourceSpec
from vm_core.keys import PARTY_KEY, PERSPECTIVE_KEY, RELATIONSHIP_KEY, SOURCE_KEY, KeyRule
from vm_core.store.models import COMMENT_MIN_GROUP_SIZE_DEFAULT, CYCLE_MODES, MIN_GROUP_SIZE_FLOOR

TOP_KEYS = ("relationship", "library", "parties", "perspectives", "equivalences", "levels", "cycles")
RELATIONSHIP_KEYS = ("key", "name", "min_group_size", "comment_min_group_size", "agreement")
LIBRARY_KEYS = ("file", "key", "name", "version")
PARTY_KEYS = ("key", "name", "role", "match")
PERSPECTIVE_KEYS = ("key", "name")
EQUIVALENCE_KEYS = ("party", "role", "perspective")
CYCLE_KEYS = ("number", "mode", "opens", "closes", "library_version", "invited", "sources")
SOURCE_KEYS = ("key", "connector", "path", "options", "delivery", "delivery_key", "party", "participants")
PARTICIPANT_LIST_KEYS = ("file", "identity", "organisation", "role")
#: how a source's deliveries combine: each replaces the last, or adds rows to the earlier ones
DELIVERIES = ("replace", "append")

_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "text", int: "a whole number", float: "a number"}


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), list(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _type_names(kinds: type | tuple[type, ...]) -> str:
    kinds = _as_tuple(kinds)
    if int in kinds and float in kinds:  # "a whole number or a number" says less than "a number"
        kinds = tuple(k for k in kinds if k is not int)
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)


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
    #: fewest respondents who commented for a group's comments to be shown; never below min_group_size
    comment_min_group_size: int
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
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self._fail(key, f"must be {_type_names(kind)}, not {type(value).__name__} {value!r}")
        return value

    def known(self, keys: Collection[str]) -> None:
        """Refuse a key this mapping does not have (a misspelling would otherwise be ignored)."""
        for key in self.data:
            if key not in keys:
                hint = did_you_mean(key, keys) or (
                    f"; known keys: {', '.join(keys)}" if keys else "; none allowed"
                )
                raise self._fail(str(key), f"unknown key{hint}")

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


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


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
    top.known(TOP_KEYS)
    rel = top.child("relationship", top.get("relationship", dict))
    rel.known(RELATIONSHIP_KEYS)
    key = rel.key("key", RELATIONSHIP_KEY)
    min_group = rel.get("min_group_size", int, default=5)
    if min_group < MIN_GROUP_SIZE_FLOOR:
        raise rel._fail("min_group_size", f"must be at least {MIN_GROUP_SIZE_FLOOR}, not {min_group}")
    comment_min = rel.get(
        "comment_min_group_size", int, default=max(COMMENT_MIN_GROUP_SIZE_DEFAULT, min_group)
    )
    if comment_min < min_group:
        raise rel._fail(
            "comment_min_group_size",
            f"must be at least min_group_size ({min_group}), not {comment_min}: "
            "comments are never shown for a group smaller than the scores' minimum",
        )
    agreement = _agreement(rel)

    lib = top.child("library", top.get("library", dict))
    lib.known(LIBRARY_KEYS)
    lib_file = lib.get("file", str, default=None)
    library = LibraryConfig(
        key=lib.get("key", str, default=key),
        name=lib.get("name", str, default=f"{rel.get('name', str, default=key)} library"),
        version=str(lib.get("version", (str, int, float))),
        file=(path.parent / lib_file) if lib_file else None,
    )

    parties = []
    for p in top.items("parties"):
        p.known(PARTY_KEYS)
        parties.append(
            PartyConfig(
                key=p.key("key", PARTY_KEY),
                name=p.get("name", str),
                role=p.get("role", str, default="party"),
                match=tuple(p.get("match", list, default=[p.get("name", str)])),
            )
        )
    if not parties:
        raise ConfigError(f"{file}: parties: at least one party is required")
    party_keys = {p.key for p in parties}
    perspectives = []
    for p in top.items("perspectives"):
        p.known(PERSPECTIVE_KEYS)
        perspectives.append(PerspectiveConfig(key=p.key("key", PERSPECTIVE_KEY), name=p.get("name", str)))
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
        e.known(EQUIVALENCE_KEYS)
        party = e.get("party", str, default="*")
        perspective = e.get("perspective", str)
        if party != "*" and party not in party_keys:
            raise e._fail("party", f"unknown party {party!r}{_hint(party, party_keys, 'parties')}")
        if perspective not in perspective_keys:
            raise e._fail(
                "perspective",
                f"unknown perspective {perspective!r}{_hint(perspective, perspective_keys, 'perspectives')}",
            )
        equivalences.append(
            EquivalenceConfig(None if party == "*" else party, e.get("role", str), perspective)
        )

    levels_raw = top.get("levels", dict, default={})
    levels: dict[str, int | None] = {}
    for text, level in levels_raw.items():
        if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
            raise ConfigError(f"{file}: levels.{text}: must be a level 1-5 or null (no level), not {level!r}")
        levels[str(text)] = level

    from vm_core.ingest.plugins import connectors  # imports every connector: only when a file is loaded

    available = connectors()
    cycles = []
    for c in top.items("cycles"):
        c.known(CYCLE_KEYS)
        mode = c.get("mode", str).lower()
        if mode not in CYCLE_MODES:
            raise c._fail("mode", f"must be one of {', '.join(CYCLE_MODES)}, not {mode!r}")
        number = c.get("number", int)
        sources = [_source(s, path, available, party_keys) for s in c.items("sources")]
        keys = [s.key for s in sources]
        if len(set(keys)) != len(keys):
            raise c._fail("sources", "two sources share a key; give each a distinct `key`")
        cycles.append(
            CycleConfig(
                number=number,
                mode=mode,
                opens=_date(c, "opens"),
                closes=_date(c, "closes"),
                library_version=str(c.get("library_version", (str, int, float), default=library.version)),
                invited=_invited(c, party_keys, perspective_keys),
                sources=tuple(sources),
            )
        )
    numbers = [c.number for c in cycles]
    if len(set(numbers)) != len(numbers):
        raise ConfigError(f"{file}: cycles: duplicate cycle number")

    config = RelationshipConfig(
        path=path,
        key=key,
        name=rel.get("name", str, default=key),
        min_group_size=min_group,
        comment_min_group_size=comment_min,
        agreement=agreement,
        library=library,
        parties=tuple(parties),
        perspectives=tuple(perspectives),
        equivalences=tuple(equivalences),
        levels=levels,
        cycles=tuple(sorted(cycles, key=lambda c: c.number)),
    )
    if library.file is not None and library.file.is_file():
        # a missing file is reported where it is needed (importing the library); a broken one here
        from vm_core.store.library import parse_library

        check_value_codes(config, {library.version: set(parse_library(library.file).identifiers)})
    return config


def _hint(word: str, candidates: Collection[str], kind: str) -> str:
    return did_you_mean(word, sorted(candidates)) or f" ({kind}: {', '.join(sorted(candidates)) or 'none'})"


def _agreement(rel: _Reader) -> dict[str, float]:
    """The agreed/divided thresholds: the keys ``AgreementRule`` reads, each a number from 0 to 1."""
    from dataclasses import fields

    from vm_core.scoring import AgreementRule

    names = [f.name for f in fields(AgreementRule)]
    reader = rel.child("agreement", rel.get("agreement", dict, default={}))
    reader.known(names)
    values: dict[str, float] = {}
    for name in names:
        value = reader.get(name, (int, float), default=None)
        if value is None:
            continue
        if not 0 <= value <= 1:  # NaN fails this too
            raise reader._fail(name, f"must be a number from 0 to 1, not {value!r}")
        values[name] = float(value)
    try:
        AgreementRule(**values)
    except ValueError as exc:  # the rules between thresholds
        raise ConfigError(
            f"{rel.file}: {reader.where}: {str(exc).removeprefix('agreement rule: ')}"
        ) from None
    return values


def _source(
    s: _Reader, config_path: Path, available: Mapping[str, Connector], party_keys: Collection[str]
) -> SourceSpec:
    s.known(SOURCE_KEYS)
    name = s.get("connector", str)
    connector = available.get(name)
    if connector is None:
        raise s._fail(
            "connector",
            f"unknown connector {name!r}{did_you_mean(name, sorted(available))} "
            f"(available: {', '.join(sorted(available))})",
        )
    source_key = s.key("key", SOURCE_KEY, default=name)
    options = s.child("options", s.get("options", dict, default={}))
    declared = {option.name: option for option in connector.options}
    options.known(list(declared))
    for option in connector.options:
        value = options.get(option.name, option.types, default=None)
        if option.value_codes and isinstance(value, Mapping):
            mapping = options.child(option.name, value)
            for column, code in value.items():
                if isinstance(column, bool) or not isinstance(column, str | int):
                    raise mapping._fail(str(column), "must be a column name (text)")
                if not isinstance(code, str):
                    raise mapping._fail(
                        str(column), f"must be a Value Code identifier, not {type(code).__name__} {code!r}"
                    )
    delivery = s.get("delivery", str, default="replace")
    if delivery not in DELIVERIES:
        raise s._fail(
            "delivery",
            f"must be {' or '.join(DELIVERIES)}, not {delivery!r}{did_you_mean(delivery, DELIVERIES)}",
        )
    delivery_key = s.get("delivery_key", str, default=None)
    if delivery == "append" and not delivery_key:
        raise s._fail(
            "delivery_key", "is required with delivery: append (the column identifying a delivered row)"
        )
    if delivery != "append" and delivery_key is not None:
        raise s._fail("delivery_key", "is only used with delivery: append")
    party = s.get("party", str, default=None)
    if party is not None and party not in party_keys:
        raise s._fail("party", f"unknown party {party!r}{_hint(party, party_keys, 'parties')}")
    participants = _participant_list(s, config_path) if "participants" in s.data else None
    _one_way_each(s, connector, options.data, party, participants)
    return SourceSpec(
        key=source_key,
        connector=name,
        path=(config_path.parent / s.get("path", str)).resolve(),
        options=options.data,
        delivery=delivery,
        delivery_key=delivery_key,
        party=party,
        participants=participants,
        where=f"{s.file}: {s.where}",
    )


def _participant_list(s: _Reader, config_path: Path) -> ParticipantListSpec:
    """A source's ``participants:``: the list's file and the columns read from it."""
    reader = s.child("participants", s.get("participants", dict))
    reader.known(PARTICIPANT_LIST_KEYS)
    organisation = reader.get(ORGANISATION, str, default=None)
    role = reader.get(ROLE, str, default=None)
    if organisation is None and role is None:
        raise ConfigError(
            f"{s.file}: {reader.where}: name the list's `organisation` column, its `role` column, or both"
        )
    return ParticipantListSpec(
        file=(config_path.parent / reader.get("file", str)).resolve(),
        identity=reader.get("identity", str),
        organisation=organisation,
        role=role,
        where=f"{s.file}: {reader.where}",
    )


def _one_way_each(
    s: _Reader,
    connector: Connector,
    options: Mapping[str, Any],
    party: str | None,
    participants: ParticipantListSpec | None,
) -> None:
    """A respondent's organisation (and role) comes from one place: refuse a source that names two."""
    column_options = {
        option.holds: option.name
        for option in connector.options
        if option.holds and options.get(option.name) is not None
    }
    ways = [  # (key path, how it says it)
        (key, said)
        for key, said, given in (
            ("party", f"`party: {party}`", party is not None),
            (
                "participants.organisation",
                "the participant list",
                bool(participants and participants.organisation),
            ),
            (
                f"options.{column_options.get(ORGANISATION)}",
                "a column of the export",
                ORGANISATION in column_options,
            ),
        )
        if given
    ]
    if len(ways) > 1:
        raise s._fail(ways[1][0], f"the organisation already comes from {ways[0][1]}; give it one way only")
    if participants and participants.role is not None and ROLE in column_options:
        raise s._fail(
            "participants.role",
            f"the role already comes from options.{column_options[ROLE]}; give it one way only",
        )


def _invited(
    c: _Reader, parties: Collection[str], perspectives: Collection[str]
) -> dict[str, dict[str, int]]:
    """``invited``: party -> perspective (or ``all``) -> number of people invited."""
    invited = c.child("invited", c.get("invited", dict, default={}))
    result: dict[str, dict[str, int]] = {}
    for party in invited.data:
        if party not in parties:
            raise invited._fail(str(party), f"unknown party{_hint(str(party), parties, 'parties')}")
        counts = invited.child(party, invited.get(party, dict))
        result[party] = {}
        for perspective in counts.data:
            if perspective != "all" and perspective not in perspectives:
                hint = _hint(str(perspective), [*perspectives, "all"], "perspectives")
                raise counts._fail(str(perspective), f"unknown perspective{hint}")
            number = counts.get(perspective, int)
            if number < 0:
                raise counts._fail(perspective, f"must be 0 or more people, not {number}")
            result[party][perspective] = number
    return result


def check_value_codes(
    config: RelationshipConfig, identifiers_by_version: Mapping[str, Collection[str]]
) -> None:
    """Every Value Code a source's options name (``Option.value_codes``) is in its cycle's library version.

    ``identifiers_by_version``: library version -> its Value Code identifiers; cycles whose
    version is not given are not checked. Identifiers match as the connectors match them
    (ignoring case and surrounding spaces). Raises :class:`ConfigError` naming the file and key path.
    """
    from vm_core.ingest.plugins import connectors

    available = connectors()
    for cycle in config.cycles:
        identifiers = identifiers_by_version.get(cycle.library_version)
        if identifiers is None:
            continue
        folded = {identifier.casefold() for identifier in identifiers}
        for source in cycle.sources:
            connector = available.get(source.connector)
            for option in connector.options if connector is not None else ():
                mapping = source.options.get(option.name)
                if not option.value_codes or not isinstance(mapping, Mapping):
                    continue
                for column, code in mapping.items():
                    if isinstance(code, str) and code.strip().casefold() in folded:
                        continue
                    close = difflib.get_close_matches(str(code), sorted(identifiers), n=1)
                    where = source.where or f"source {source.key!r}"
                    raise ConfigError(
                        f"{where}.options.{option.name}.{column}: {code!r} is not a Value Code of library "
                        f"{config.library.key!r} version {cycle.library_version!r}"
                        + (f" (did you mean {close[0]!r}?)" if close else "")
                    )
