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

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from vm_core.modelling import NO_ROLE
from vm_core.models import Cycle, Evaluation, Participant, Party, Relationship
from vm_core.scores import narrow_to


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
    session: Session, relationship_key: str | None = None, cycle_number: int | None = None
) -> list[StoredUnmapped]:
    """Respondents who evaluated in a cycle without a perspective, by their party then and their title.

    The title is the participant's latest (``participant.source_role``): the store keeps one per person.
    """
    query = (
        select(
            Relationship.key,
            Relationship.min_group_size,
            Cycle.number,
            Party.key,
            Participant.source_role,
            func.count(distinct(Participant.id)),
        )
        .select_from(Evaluation)
        .join(Cycle, Cycle.id == Evaluation.cycle_id)
        .join(Relationship, Relationship.id == Cycle.relationship_id)
        .join(Participant, Participant.id == Evaluation.participant_id)
        .join(Party, Party.id == Evaluation.party_id)
        .where(Evaluation.perspective_id.is_(None))
        .group_by(
            Relationship.key, Relationship.min_group_size, Cycle.number, Party.key, Participant.source_role
        )
        .order_by(Relationship.key, Cycle.number)
    )
    found: dict[tuple[str, int], StoredUnmapped] = {}
    for relationship, min_size, cycle, party, title, n in session.execute(
        narrow_to(query, relationship_key, cycle_number)
    ):
        key = (relationship, cycle)
        if key not in found:
            found[key] = StoredUnmapped(relationship, cycle, min_size, Counter())
        found[key].titles[(party, title if title and title.strip() else NO_ROLE)] += n
    return list(found.values())


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
