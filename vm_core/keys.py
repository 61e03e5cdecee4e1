"""The one place that says what a key may look like, and why.

Keys end up inside other names, so a key that is merely *different* is not enough: it must
stay different after every transformation downstream.

- A **relationship** key names its landing dataset and PostgreSQL schema (``vm_raw_<key>``,
  where dlt and the landing turn anything but ``[a-z0-9_]`` into ``_``), its dlt pipeline
  folder, and its Prefect artifacts (which allow only ``[a-z0-9-]``). Lower-case letters and
  digits joined by single hyphens survive all of these one-to-one: ``acme-1`` and ``acme_1``
  can no longer both exist and share one landing dataset.
- **Party** and **perspective** keys are joined into group names (``party/perspective``), so
  they never contain ``/``; ``all`` names the whole relationship (and the per-party total in
  ``invited``), so neither may be called ``all``; a key is either a party or a perspective,
  never both, so a group name alone says which it is.
- **Source** keys (``cycles[].sources[].key``) are stored and landed beside every row; they
  follow the party/perspective pattern.
- **Value Code** identifiers come from the library table (``Value Code Identifier``): letters,
  digits, ``_``, ``.`` and ``-``, unique ignoring case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: Longest relationship, party, perspective or source key: leaves room in PostgreSQL's 63-byte
#: identifiers for the landing prefix and dlt's ``_staging`` suffix, and in ``score.group_key``.
MAX_KEY_LENGTH: Final = 40
#: Group name of the whole relationship, and the per-party total in ``invited``.
RESERVED_GROUP_KEY: Final = "all"


@dataclass(frozen=True)
class KeyRule:
    kind: str
    pattern: re.Pattern[str]
    rule: str  # the pattern in words, for error messages and docs
    example: str
    max_length: int = MAX_KEY_LENGTH
    reserved: frozenset[str] = frozenset()

    def matches(self, key: str) -> bool:
        return len(key) <= self.max_length and self.pattern.fullmatch(key) is not None

    def problem(self, key: str) -> str | None:
        """Why ``key`` is not a valid key of this kind, in one line; None when it is valid."""
        if key in self.reserved:
            return f"{key!r} is reserved (the group of everyone); choose another {self.kind} key"
        if not self.matches(key):
            return f"{key!r} is not a valid {self.kind} key: use {self.rule} (e.g. {self.example!r})"
        return None


RELATIONSHIP_KEY: Final = KeyRule(
    "relationship",
    re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*"),
    f"lower-case letters and digits, words joined by single hyphens, at most {MAX_KEY_LENGTH} characters",
    "northwind-contoso",
)
_NAME_KEY = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_NAME_RULE = (
    f"lower-case letters and digits, words joined by single '-' or '_', at most {MAX_KEY_LENGTH} characters"
)
PARTY_KEY: Final = KeyRule(
    "party", _NAME_KEY, _NAME_RULE, "contoso", reserved=frozenset({RESERVED_GROUP_KEY})
)
PERSPECTIVE_KEY: Final = KeyRule(
    "perspective", _NAME_KEY, _NAME_RULE, "front_line", reserved=frozenset({RESERVED_GROUP_KEY})
)
SOURCE_KEY: Final = KeyRule("source", _NAME_KEY, _NAME_RULE, "diagnostic")
VALUE_CODE_IDENTIFIER: Final = KeyRule(
    "Value Code",
    re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*"),
    "1–50 letters, digits, '_', '.' or '-', starting with a letter or digit",
    "REL-TRUST",
    max_length=50,
)


def storage_name(key: str) -> str:
    """What a key becomes inside dataset, schema and pipeline names (the landing's normalisation).

    One-to-one on valid relationship keys; used to refuse a new key that would share a dataset with
    a key stored before these rules existed.
    """
    return re.sub(r"[^a-z0-9_]+", "_", key.lower()).strip("_")
