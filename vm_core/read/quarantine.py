"""What was kept aside: quarantined input rows, with file, row, column and reason, per cycle and source.

A quarantined value is what a person wrote: an answer naming a colleague, an e-mail address. Listings
show it masked as its kind and length ("text, 23 characters", "number, 1 digit", "e-mail address,
18 characters", "blank"), so they can be shared to fix a mapping; the store keeps the raw value, which
an administrator reads with ``vm quarantine --reveal-values``. Reasons never carry the value.
"""

from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.ingest.mapping import is_blank_answer
from vm_core.ingest.scrub import EMAIL, LINK, PHONE, scrub
from vm_core.read.scores import narrow_to
from vm_core.store.models import Cycle, QuarantinedRow, Relationship

QUARANTINE_REPORT_COLUMNS = (
    "relationship", "cycle", "source_key", "source_file", "source_row", "source_column", "value", "reason",
)  # fmt: skip


_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_CONTACT_KINDS = {EMAIL: "e-mail address", PHONE: "phone number", LINK: "link"}
#: reasons stored before values were kept out of them: "answer 'X' is not…", "organisation 'X' matches…"
_VALUE_IN_REASON = re.compile(r"""^(answer|organisation) (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") """)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def mask_value(value: str | None) -> str:
    """A value as its kind and length, e.g. "text, 23 characters": enough to find it, not to read it."""
    if value is None or is_blank_answer(value):
        return "blank"
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return f"number, {_plural(sum(c.isdigit() for c in text), 'digit')}"
    kind = _CONTACT_KINDS.get(scrub(text), "text")
    return f"{kind}, {_plural(len(text), 'character')}"


def mask_reason(reason: str) -> str:
    """A reason with any raw value an older version wrote into it taken out."""
    return _VALUE_IN_REASON.sub(r"\1 ", reason)


def read_quarantine(
    session: Session,
    relationship_key: str | None = None,
    cycle_number: int | None = None,
    *,
    reveal_values: bool = False,
) -> pd.DataFrame:
    """Quarantined rows with :data:`QUARANTINE_REPORT_COLUMNS`; ``value`` masked unless ``reveal_values``."""
    query = (
        select(
            Relationship.key,
            Cycle.number,
            QuarantinedRow.source_key,
            QuarantinedRow.source_file,
            QuarantinedRow.source_row,
            QuarantinedRow.source_column,
            QuarantinedRow.value,
            QuarantinedRow.reason,
        )
        .join(Cycle, Cycle.id == QuarantinedRow.cycle_id)
        .join(Relationship, Relationship.id == Cycle.relationship_id)
        .order_by(
            Relationship.key,
            Cycle.number,
            QuarantinedRow.source_key,
            QuarantinedRow.source_row,
            QuarantinedRow.source_column,
        )
    )
    frame = pd.DataFrame(
        session.execute(narrow_to(query, relationship_key, cycle_number)).all(),
        columns=list(QUARANTINE_REPORT_COLUMNS),
    )
    frame["reason"] = frame["reason"].map(mask_reason)
    if not reveal_values:
        frame["value"] = frame["value"].map(mask_value)
    return frame.astype({"source_row": "Int64"})


def format_quarantine(frame: pd.DataFrame, fmt: str, *, revealed: bool = False) -> str:
    """``table``, ``csv`` or ``json``; ``revealed``: the frame holds raw values (quoted in a table)."""
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    if fmt == "json":
        return str(frame.to_json(orient="records", force_ascii=False, indent=1)) + "\n"

    def shown(value: object) -> str:
        if not revealed:
            return str(value)
        return "blank" if value is None or pd.isna(value) else repr(value)

    lines = [
        f"{r.relationship} · cycle {r.cycle} · {r.source_file}, row {r.source_row}, column {r.source_column!r} "
        f"[{shown(r.value)}]: {r.reason}"
        for r in frame.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"
