"""Unmapped job titles, reported so that no one is singled out by theirs.

A job title that maps to no perspective is free text as the respondent or their HR system wrote it:
"Analyst (Jane Doe)", or a title only one person holds, names its holder. Run summaries — the CLI's
lines, Prefect task results and the flow's markdown artifact — therefore show a title as text only
when at least the relationship's minimum group size hold it; the other titles are counted per party
("contoso: 2 job titles held by fewer than 5 people each: 6 respondents"). An administrator who has
to fix the mapping reads them all from the store with ``vm roles unmapped --reveal``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.lake.evidence import committed_files, evaluations_relation
from vm_core.lake.storage import Lake, connect
from vm_core.read.scores import narrow_to
from vm_core.store.models import Cycle, Relationship

#: How a respondent without any role is listed among the unmapped roles.
NO_ROLE = "(no role)"


def withheld_label(titles: int, min_group_size: int) -> str:
    plural = "s" if titles != 1 else ""
    return f"{titles} job title{plural} held by fewer than {min_group_size} people each"


@dataclass(frozen=True)
class UnmappedSummary:
    """What a run may report about respondents whose role maps to no perspective."""

    #: "party: title" → respondents, for titles held by at least the minimum (and for no role);
    #: "party: N job titles held by fewer than M people each" → respondents, for the other titles
    lines: dict[str, int]
    #: respondents whose title is not shown
    withheld: int


def summarise_unmapped(counts: Mapping[tuple[str, str], int], min_group_size: int) -> UnmappedSummary:
    """Aggregate (party, title) → respondents so that no title held by fewer than the minimum is shown."""
    shown: dict[str, int] = {}
    rare_titles: Counter[str] = Counter()
    rare_people: Counter[str] = Counter()
    for (party, title), n in sorted(counts.items()):
        if n >= min_group_size or title == NO_ROLE:  # no role is no text of theirs: always shown
            shown[f"{party}: {title}"] = n
        else:
            rare_titles[party] += 1
            rare_people[party] += n
    for party in sorted(rare_titles):
        shown[f"{party}: {withheld_label(rare_titles[party], min_group_size)}"] = rare_people[party]
    return UnmappedSummary(shown, sum(rare_people.values()))


@dataclass(frozen=True)
class StoredUnmapped:
    """One cycle's unmapped respondents by party and title, as stored."""

    relationship: str
    cycle: int
    min_group_size: int
    titles: Counter[tuple[str, str]]  # (party key, title or NO_ROLE) → respondents


def read_unmapped(
    session: Session, lake: Lake, relationship_key: str | None = None, cycle_number: int | None = None
) -> list[StoredUnmapped]:
    """Respondents who evaluated in a cycle without a perspective, by their party then and their title.

    Read from the cycle's evaluations in the lake, which carry the title each respondent gave then.
    """
    query = narrow_to(
        select(Relationship.key, Relationship.min_group_size, Cycle.number, Cycle.id)
        .join(Cycle, Cycle.relationship_id == Relationship.id)
        .order_by(Relationship.key, Cycle.number),
        relationship_key,
        cycle_number,
    )
    found: list[StoredUnmapped] = []
    for relationship, min_size, cycle, cycle_id in session.execute(query).all():
        files = committed_files(session, cycle_id)
        if not files:
            continue
        with connect() as con:
            name = evaluations_relation(con, lake, files)
            rows = con.execute(
                f"SELECT party, role, count(DISTINCT respondent_key) FROM {name} "
                "WHERE perspective IS NULL GROUP BY party, role"
            ).fetchall()
        if rows:
            titles: Counter[tuple[str, str]] = Counter()
            for party, title, n in rows:
                titles[(str(party), title if title and str(title).strip() else NO_ROLE)] += int(n)
            found.append(StoredUnmapped(relationship, cycle, min_size, titles))
    return found


def unmapped_lines(stored: list[StoredUnmapped], *, reveal: bool) -> list[str]:
    """One line per party and title (``reveal``), or per shown title and withheld count."""
    lines = []
    for cycle in stored:
        where = f"{cycle.relationship} · cycle {cycle.cycle}"
        if reveal:
            entries = {f"{party}: {title}": n for (party, title), n in sorted(cycle.titles.items())}
        else:
            entries = summarise_unmapped(cycle.titles, cycle.min_group_size).lines
        lines += [f"{where} · {label} — {_respondents(n)}" for label, n in entries.items()]
    return lines


def _respondents(n: int) -> str:
    return f"{n} respondent{'s' if n != 1 else ''}"
