"""Map raw answers onto the method: organisation → party, role → perspective, answer text → level.

Wildcards are shell-style (``*``, ``?``) and case-insensitive; the first matching
rule wins, in configuration order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase
from typing import Final, Literal

_SPACES = re.compile(r"\s+")


def normalise_text(value: str) -> str:
    """Casefold and collapse whitespace, so labels match however a tool spaced or cased them."""
    return _SPACES.sub(" ", value).strip().casefold()


def _matches(pattern: str, value: str) -> bool:
    return fnmatchcase(normalise_text(value), normalise_text(pattern))


@dataclass(frozen=True)
class PartyRule:
    party: str
    patterns: tuple[str, ...]


def match_party(organisation: str | None, rules: Sequence[PartyRule]) -> str | None:
    if organisation is None or not organisation.strip():
        return None
    for rule in rules:
        if any(_matches(p, organisation) for p in rule.patterns):
            return rule.party
    return None


@dataclass(frozen=True)
class PerspectiveRule:
    party: str | None  # None: any party
    role_pattern: str
    perspective: str


def match_perspective(party: str, role: str | None, rules: Sequence[PerspectiveRule]) -> str | None:
    if role is None or not role.strip():
        return None
    for rule in rules:
        if (rule.party is None or rule.party == party) and _matches(rule.role_pattern, role):
            return rule.perspective
    return None


class _Marker(Enum):
    BLANK = "blank"
    UNRECOGNISED = "unrecognised"


#: Marker for an unanswered cell, kept apart from an explicit "no level" answer such as "Not applicable".
#: Not an int: every int can be written in a cell ("-2"), a marker of its own cannot.
BLANK: Final = _Marker.BLANK
#: Marker for an answer that is neither a level nor a recognised "no level" text (a number such as
#: "-1" or "7" is a number, reported by the contract as out of range).
UNRECOGNISED: Final = _Marker.UNRECOGNISED


def is_blank_answer(value: str | None) -> bool:
    """An unanswered cell: missing, empty or only whitespace."""
    return value is None or not str(value).strip()


class LevelParser:
    """Answer cell → level 1–5, ``None`` (no level), :data:`BLANK` or :data:`UNRECOGNISED`.

    Order: a blank cell → :data:`BLANK`; the configuration's ``levels:`` texts (a text listed as
    ``null`` is an explicit "no level"); a whole number (range is checked later by the contract,
    so "7" is reported, not guessed); the Value Code's own level labels and evaluation statements.
    """

    def __init__(self, configured: Mapping[str, int | None], per_code: Mapping[str, Mapping[str, int]]):
        self._configured = {normalise_text(k): v for k, v in configured.items()}
        self._per_code = {code: dict(texts) for code, texts in per_code.items()}

    def parse(
        self, value_code: str | None, value: str | None
    ) -> int | Literal[_Marker.BLANK, _Marker.UNRECOGNISED] | None:
        if is_blank_answer(value):
            return BLANK
        text = normalise_text(str(value))
        if text in self._configured:
            return self._configured[text]
        if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
            return int(float(text))
        per_code = self._per_code.get(value_code, {}) if value_code is not None else {}
        return per_code.get(text, UNRECOGNISED)
