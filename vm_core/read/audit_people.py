"""The audit of the outputs about people rather than answers: engagement and comments.

Engagement (:func:`vm_core.read.engagement.read_engagement`), against the respondents the lake holds:

* **leak** — the shown responded counts, read as the heatmap's table over respondent counts, let
  no union of atoms with at least one and fewer than the minimum respondents be worked out (the
  exact search of :func:`vm_core.scoring.anonymity.find_leak`);
* **exposed** — a hidden row publishes no responded count, rate or change; a change beside a
  previous cycle's hidden count is none either (the change minus the count gives it away); a cycle
  whose newer data is held back (``Cycle.held_note``) shows no responded count at all;
* **mismatch** — every shown count is the number of people in the group, its rate that over invited.

Comments (:func:`vm_core.read.comments.read_comments`), against what was written (the lake):

* **exposed** — a hidden group lists no comment; a held cycle shows none, and no theme; a theme is a
  keyword of the shown comments in at least two of them (a term only hidden comments hold is not one);
* **mismatch** — a shown group lists exactly what its respondents wrote (masked), nothing from
  another group;
* **leak** — a shown group has at least the comment minimum of commenters, and so has every class
  of respondents a reader can isolate by differencing or intersecting the shown lists. Once each
  shown list is what its group wrote, a comment is found in exactly the shown lists of the groups
  its writer is in, so the reader's classes are those of :func:`vm_core.read.comment_release.classes`
  over the groups the output shows (not over those the release rule chose).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from vm_core.lake.storage import Lake
from vm_core.read.audit_published import Problem, differences
from vm_core.read.comment_release import classes
from vm_core.read.comments import (
    CycleComments,
    GroupComments,
    Topic,
    Written,
    comment_minimum,
    written_comments,
)
from vm_core.read.engagement import EngagementRow, people_tallies, responding_people
from vm_core.read.themes import MIN_DOCUMENT_FREQUENCY, terms
from vm_core.scoring import effective_min_group_size, relationship_table
from vm_core.scoring.anonymity import Atom, Group, HeatmapTable, find_leak
from vm_core.store.models import Cycle, Relationship

_COUNTS = ("responded", "rate", "responded_change", "rate_change")


def check_engagement(
    session: Session,
    lake: Lake,
    relationship: Relationship,
    cycle: Cycle,
    rows: Sequence[EngagementRow],
    previous: Sequence[EngagementRow] = (),
) -> list[Problem]:
    """The cycle's engagement rows (``previous``: the previous cycle's, as published)."""
    found: list[Problem] = []
    table = relationship_table(session, relationship.id, cycle.id).table
    groups = {g.key: g for g in table.groups}
    before = {r.group: r for r in previous}
    shown: list[Group] = []
    people = responding_people(session, lake, relationship, cycle)
    for row in rows:
        numbers = {name: getattr(row, name) for name in _COUNTS}
        published = [name for name, value in numbers.items() if value is not None]
        if row.suppressed or cycle.held_note:
            if published:
                held = f"row {row.group} of a cycle whose newer data is held back"
                what = held if cycle.held_note else f"hidden row {row.group}"
                found.append(Problem("exposed", "", f"{what} publishes {', '.join(published)}"))
            continue
        group = groups.get(row.group)
        if group is None:
            found.append(
                Problem("mismatch", "", f"{row.group} is shown but is not a group of the relationship")
            )
            continue
        shown.append(group)
        last = before.get(row.group)
        if row.responded_change is not None and (last is None or last.responded is None):
            found.append(
                Problem(
                    "exposed", "", f"{row.group} publishes a change beside the previous cycle's hidden count"
                )
            )
            continue
        responded = sum(people.get(atom, 0) for atom in table.members(group))
        expected = {
            "responded": responded,
            "rate": responded / row.invited if row.invited else None,
            "responded_change": None
            if last is None or last.responded is None
            else responded - last.responded,
        }
        wrong = differences(numbers, expected)
        if wrong:
            found.append(Problem("mismatch", "", f"{row.group} shows {', '.join(wrong)}"))
    if cycle.held_note:
        return found
    leak = find_leak(table, shown, people_tallies(people), effective_min_group_size(relationship))
    if leak is not None:
        found.append(Problem("leak", "", f"responded counts: {leak.describe()}"))
    return found


def check_comments(
    session: Session, lake: Lake, relationship: Relationship, cycle: Cycle, result: CycleComments
) -> list[Problem]:
    """The cycle's comments as :func:`read_comments` publishes them (module docstring)."""
    minimum = comment_minimum(relationship)
    found: list[Problem] = []
    if result.minimum != minimum:
        found.append(
            Problem("mismatch", "", f"says the comment minimum is {result.minimum}, it is {minimum}")
        )
    if cycle.held_note:
        for topic in result.topics:
            listed = [g.group.key for g in topic.groups if g.comments]
            if listed or topic.themes:
                what = f"lists comments of {', '.join(listed)}" if listed else "shows themes"
                found.append(Problem("exposed", topic.key, f"held cycle {what}"))
        return found
    table = relationship_table(session, relationship.id, cycle.id).table
    by_code, free_text = written_comments(
        session, lake, cycle.id, table, [t.key for t in result.topics if t.kind == "value_code"], True
    )
    truth = {("value_code", code): written for code, written in by_code.items()}
    truth |= {("uncovered", column): written for (_, column, _), written in free_text.items()}
    for topic in result.topics:
        written = truth.get((topic.kind, topic.key), {})
        found += [
            Problem(p.kind, topic.key, p.detail)
            for p in _topic_problems(table, topic.groups, written, minimum)
        ]
        found += [Problem(p.kind, topic.key, p.detail) for p in _theme_problems(table, topic, written)]
    return found


def _topic_problems(
    table: HeatmapTable, groups: Sequence[GroupComments], written: Written, minimum: int
) -> list[Problem]:
    found: list[Problem] = []
    shown: list[Group] = []
    for entry in groups:
        group, hidden, comments = entry.group, entry.hidden, entry.comments
        if hidden is not None:
            if comments:
                found.append(
                    Problem("exposed", "", f"hidden group {group.key} lists {len(comments)} comment(s)")
                )
            continue
        shown.append(group)
        expected = Counter(text for atom in table.members(group) for text in written.get(atom, []))
        if Counter(comments) != expected:
            found.append(
                Problem(
                    "mismatch",
                    "",
                    f"{group.key} lists {len(comments)} comment(s) that are not the "
                    f"{sum(expected.values())} its respondents wrote",
                )
            )
        if sum(expected.values()) < minimum:
            found.append(
                Problem(
                    "leak",
                    "",
                    f"{group.key} is shown with {sum(expected.values())} commenter(s), fewer than {minimum}",
                )
            )
    commenters: Mapping[Atom, int] = {atom: len(texts) for atom, texts in written.items()}
    for atoms in classes(table, shown):
        count = sum(commenters.get(atom, 0) for atom in atoms)
        if 0 < count < minimum:
            who = " + ".join(sorted(a.label for a in atoms))
            found.append(
                Problem(
                    "leak",
                    "",
                    f"{who}: {count} commenter(s), fewer than {minimum}, isolated by the shown "
                    f"lists of {', '.join(g.key for g in shown)}",
                )
            )
    return found


def _theme_problems(table: HeatmapTable, topic: Topic, written: Written) -> list[Problem]:
    """Each theme is a term of at least two shown comments, in as many as it says."""
    seen = {atom for g in topic.groups if g.hidden is None for atom in table.members(g.group)}
    documents = [set(terms(text)) for atom in table.atoms if atom in seen for text in written.get(atom, [])]
    found = []
    for keyword in topic.themes:
        holding = sum(1 for d in documents if keyword.term in d)
        if holding < max(keyword.documents, MIN_DOCUMENT_FREQUENCY):
            found.append(
                Problem(
                    "exposed",
                    "",
                    f"theme {keyword.term!r} is in {holding} shown comment(s), it says {keyword.documents}",
                )
            )
    return found
