"""Reading comments: per cycle, Value Code and group, only where nobody can be singled out.

The ONLY read path for comments (``vm comments``; the app's pages later). For one cycle it reads the
``comment`` of every committed evaluation (one per respondent × Value Code, already scrubbed when it
landed) and, per source whose answer plan names ``free_text`` columns, the free text no Value Code
covers (candidate new Things That Matter), and then per *topic* (a Value Code, or such a column):

* **who may be shown** — per group (all, party, perspective, party × perspective, as the scores'
  groups) by :func:`vm_core.read.comment_release.release`: a group needs at least the relationship's
  comment minimum of respondents who commented (:func:`comment_minimum`), and no class of respondents a
  reader could isolate by differencing or intersecting the shown lists may fall below it;
* **masking again** — e-mail addresses, phone numbers and links are masked once more on the way out
  (:func:`vm_core.ingest.scrub.scrub_array`), whatever the lake holds (defence in depth);
* **no order to go by** — comments come in a deterministic shuffle (sorted by a hash of the topic and
  the text), never in file order, and carry no respondent key, file or row;
* **themes** — TF-IDF keywords (:mod:`vm_core.read.themes`) of the comments shown in at least one group;
* **held with the scores** — while the cycle's newer data is held back from its scores
  (``Cycle.held_note``) no comment is read at all: the store does not record which lake files the
  published scores came from (and a replaced load's files are swept), so the comments as published
  cannot be told apart from the late ones, and a list that changed at once would single out whoever
  arrived late. Every group is then hidden as ``held``, and nothing is shown until the cycle publishes.

A topic nobody commented on is not listed (unless asked for by name). Nothing here writes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.config import did_you_mean
from vm_core.errors import VmError
from vm_core.ingest.connector import AnswerPlan
from vm_core.ingest.scrub import scrub_array
from vm_core.lake.evidence import committed_files, evaluations_relation
from vm_core.lake.storage import Lake, connect
from vm_core.read.comment_release import release
from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.themes import Keyword, keywords
from vm_core.scoring import effective_min_group_size, relationship_table
from vm_core.scoring.anonymity import Atom, Group, HeatmapTable
from vm_core.store.models import (
    COMMENT_MIN_GROUP_SIZE_DEFAULT,
    Cycle,
    Relationship,
    Section,
    SourceLoad,
    ValueCode,
)

TopicKind = Literal["value_code", "uncovered"]
#: Why a group's comments are not shown: the release rule's reasons, or the cycle's held-back data.
CommentSuppression = Literal["below_minimum", "complementary", "held"]


class CommentsError(VmError):
    """What was asked for is not in the store (relationship, cycle or Value Code)."""


def comment_minimum(relationship: Relationship) -> int:
    """Fewest respondents who commented that a group's comments need: as configured (default
    :data:`~vm_core.store.models.COMMENT_MIN_GROUP_SIZE_DEFAULT`), never below the scores' minimum."""
    configured = relationship.comment_min_group_size
    wanted = COMMENT_MIN_GROUP_SIZE_DEFAULT if configured is None else configured
    return max(wanted, effective_min_group_size(relationship))


@dataclass(frozen=True)
class GroupComments:
    group: Group
    hidden: CommentSuppression | None  # None: shown
    comments: tuple[str, ...]  # empty when hidden


@dataclass(frozen=True)
class Topic:
    """What comments are about: a Value Code, or a free-text column no Value Code covers."""

    kind: TopicKind
    key: str  # the Value Code identifier, or the landed column
    title: str  # the Value Code's description, or the question respondents were asked
    source: str | None  # uncovered: the source that landed the column
    groups: tuple[GroupComments, ...]  # every group of the table, display order
    themes: tuple[Keyword, ...]


@dataclass(frozen=True)
class CycleComments:
    relationship: str
    cycle: int
    minimum: int  # commenters a group needs (comment_minimum)
    topics: tuple[Topic, ...]
    held: bool = False  # the cycle's newer data is held back: every group is hidden (module docstring)


def read_comments(
    session: Session, lake: Lake, relationship_key: str, cycle_number: int, value_code: str | None = None
) -> CycleComments:
    """The comments of one cycle (module docstring); ``value_code``: that Value Code only (no free text)."""
    found = session.execute(
        select(Relationship, Cycle)
        .join(Cycle, Cycle.relationship_id == Relationship.id)
        .where(Relationship.key == relationship_key, Cycle.number == cycle_number)
    ).first()
    if found is None:
        raise CommentsError(_missing(session, relationship_key, cycle_number))
    relationship, cycle = found
    codes = session.execute(
        select(ValueCode.identifier, ValueCode.description)
        .join(Section, Section.id == ValueCode.section_id)
        .where(ValueCode.library_version_id == cycle.library_version_id)
        .order_by(Section.position, ValueCode.position, ValueCode.identifier)
    ).all()
    titles = {identifier: description for identifier, description in codes}
    if value_code is not None:
        if value_code not in titles:
            hint = did_you_mean(value_code, titles) or f" (known: {', '.join(titles) or 'none'})"
            raise CommentsError(f"no Value Code {value_code!r} in cycle {cycle_number}'s library{hint}")
        titles = {value_code: titles[value_code]}

    table = relationship_table(session, relationship.id, cycle.id).table
    minimum = comment_minimum(relationship)
    if cycle.held_note:  # nothing is read: see the module docstring
        held = tuple(
            Topic(
                "value_code", code, title, None, tuple(GroupComments(g, "held", ()) for g in table.groups), ()
            )
            for code, title in titles.items()
        )
        return CycleComments(relationship.key, cycle.number, minimum, held, held=True)
    salt = f"{relationship.key}\0{cycle.number}"
    by_code, free_text = written_comments(session, lake, cycle.id, table, list(titles), value_code is None)
    topics = [
        _topic(table, minimum, salt, "value_code", code, title, None, by_code.get(code, {}))
        for code, title in titles.items()
        if code in by_code or code == value_code
    ]
    topics += [
        _topic(table, minimum, salt, "uncovered", column, label, source, written)
        for (source, column, label), written in free_text.items()
    ]
    return CycleComments(relationship.key, cycle.number, minimum, tuple(topics))


def _missing(session: Session, relationship_key: str, cycle_number: int) -> str:
    relationship = session.scalar(select(Relationship).where(Relationship.key == relationship_key))
    if relationship is None:
        known = session.scalars(select(Relationship.key).order_by(Relationship.key)).all()
        return f"no relationship {relationship_key!r} in the store{did_you_mean(relationship_key, known)}"
    numbers = session.scalars(
        select(Cycle.number).where(Cycle.relationship_id == relationship.id).order_by(Cycle.number)
    ).all()
    return (
        f"relationship {relationship_key!r} has no cycle {cycle_number} "
        f"(cycles: {', '.join(map(str, numbers)) or 'none'})"
    )


#: per topic: atom → the texts its respondents wrote (masked)
Written = dict[Atom, list[str]]


def written_comments(
    session: Session,
    lake: Lake,
    cycle_id: int,
    table: HeatmapTable,
    value_codes: Sequence[str],
    with_free_text: bool,
) -> tuple[dict[str, Written], dict[tuple[str, str, str], Written]]:
    """Masked comments per Value Code and atom, and per free-text column (source, column, label) and atom.

    What was written, before any release rule: the anonymity audit's truth too.
    """
    files = committed_files(session, cycle_id)
    if not files:
        return {}, {}
    by_code: dict[str, Written] = {}
    free_text: dict[tuple[str, str, str], Written] = {}
    with connect() as con:
        evaluations = evaluations_relation(con, lake, files)
        rows = con.execute(
            f"SELECT value_code, party, perspective, comment FROM {evaluations} "
            "WHERE comment IS NOT NULL AND value_code IN (SELECT unnest(?))",
            [list(value_codes)],
        ).fetchall()
        by_code = _collect(table, rows)
        if with_free_text:
            for source, plan in _plans(session, cycle_id):
                landed = committed_files(session, cycle_id, f"landed_{plan.table}", source)
                if not landed or not plan.free_text:
                    continue
                name = f"landed_{len(free_text)}"
                lake.latest(con, name, landed, "respondent_key")
                for column in plan.free_text:
                    rows = con.execute(
                        f"SELECT NULL, e.party, e.perspective, l.{_quoted(column.column)} FROM ("
                        f"  SELECT respondent_key, {_quoted(column.column)} FROM {name}"
                        "   QUALIFY row_number() OVER (PARTITION BY respondent_key ORDER BY source_row DESC) = 1"
                        f") l JOIN (SELECT respondent_key, min(party) AS party, min(perspective) AS perspective"
                        f"  FROM {evaluations} GROUP BY respondent_key) e USING (respondent_key)"
                        f" WHERE l.{_quoted(column.column)} IS NOT NULL"
                    ).fetchall()
                    free_text[(source, column.column, column.label)] = _collect(table, rows).get(None, {})
    return by_code, free_text


def _collect(table: HeatmapTable, rows: Sequence[tuple[Any, ...]]) -> dict[Any, Written]:
    """(topic, party, perspective, text) rows → masked, non-blank texts per topic and atom."""
    masked = scrub_array(pa.array([row[3] for row in rows], pa.string()), Counter()).to_pylist()
    parties, perspectives = set(table.parties), set(table.perspectives)
    out: dict[Any, Written] = {}
    for (topic, party, perspective, _), text in zip(rows, masked, strict=True):
        text = text.strip()
        if not text or party not in parties:  # a party the relationship no longer has is not a group
            continue
        atom = Atom(party, perspective if perspective in perspectives else None)
        out.setdefault(topic, {}).setdefault(atom, []).append(text)
    return out


def _plans(session: Session, cycle_id: int) -> list[tuple[str, AnswerPlan]]:
    """(source key, answer plan) of the cycle's sources that have one, by source key."""
    rows = session.execute(
        select(SourceLoad.source_key, SourceLoad.plan)
        .where(SourceLoad.cycle_id == cycle_id)
        .order_by(SourceLoad.source_key)
    ).all()
    return [(source, AnswerPlan.from_json(plan)) for source, plan in rows if plan is not None]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _topic(
    table: HeatmapTable,
    minimum: int,
    salt: str,
    kind: TopicKind,
    key: str,
    title: str,
    source: str | None,
    written: Written,
) -> Topic:
    decisions = release(table, {atom: len(texts) for atom, texts in written.items()}, minimum)
    rank = {text: i for i, text in enumerate(shuffled(_texts(table, written), f"{salt}\0{kind}\0{key}"))}
    seen: set[Atom] = set()  # atoms whose comments at least one shown group lists
    groups = []
    for group, hidden in decisions.items():
        members = table.members(group) if hidden is None else frozenset()
        seen |= members
        texts = sorted(_texts(table, written, members), key=rank.__getitem__)
        groups.append(GroupComments(group, hidden, tuple(texts)))
    return Topic(kind, key, title, source, tuple(groups), tuple(keywords(_texts(table, written, seen))))


def _texts(table: HeatmapTable, written: Written, atoms: Collection[Atom] | None = None) -> list[str]:
    """What the ``atoms`` (None: all) wrote, atom by atom."""
    return [text for atom in table.atoms if atoms is None or atom in atoms for text in written.get(atom, [])]


def shuffled(texts: Iterable[str], salt: str) -> tuple[str, ...]:
    """The texts in a deterministic order that says nothing about who wrote them or when: by the
    SHA-256 of ``salt`` and the text (then the text), never the order they were read in."""
    return tuple(
        sorted(texts, key=lambda text: (hashlib.sha256(f"{salt}\0{text}".encode()).hexdigest(), text))
    )


# ---------------------------------------------------------------- formatting

_REASONS = {
    "below_minimum": "fewer than {minimum} commented",
    "complementary": "withheld: with the groups shown it would reveal a smaller group's comments",
    "held": "held back with this cycle's newer data, until its scores publish it",
}
CSV_COLUMNS = (
    "relationship",
    "cycle",
    "topic_kind",
    "topic",
    "source",
    "group_kind",
    "group",
    "suppression",
    "comment",
)


def format_comments(result: CycleComments, fmt: str = "table") -> str:
    """Render :func:`read_comments` as ``fmt``: ``table``, ``csv`` or ``json``.

    * ``csv``: :data:`CSV_COLUMNS`, one row per shown comment of each group, and one row with the
      reason in ``suppression`` (and no comment) per hidden group; themes are in ``json`` and ``table``;
    * ``json``: the relationship, cycle, ``comment_min_group_size``, ``held`` and per topic its themes (term,
      weight, ``in_comments``: comments holding it) and groups (``hidden``: null or the reason; ``comments``);
    * ``table``: per topic its themes, each shown group's comments, and which groups are not shown and why.
    """
    if fmt == "csv":
        return _csv(result)
    if fmt == "json":
        return _json(result)
    if fmt == "table":
        return _table(result)
    raise ValueError(unknown_format(fmt))


def _csv(result: CycleComments) -> str:
    rows = []
    for topic in result.topics:
        for entry in topic.groups:
            first = [result.relationship, result.cycle, topic.kind, topic.key, topic.source or ""]
            group = [entry.group.kind, entry.group.key]
            if entry.hidden is not None:
                rows.append([*first, *group, entry.hidden, ""])
            rows += [[*first, *group, "", text] for text in entry.comments]
    return csv_text(CSV_COLUMNS, rows)


def _json(result: CycleComments) -> str:
    payload = {
        "relationship": result.relationship,
        "cycle": result.cycle,
        "comment_min_group_size": result.minimum,
        "held": result.held,
        "topics": [
            {
                "kind": topic.kind,
                "key": topic.key,
                "title": topic.title,
                "source": topic.source,
                "themes": [
                    {"term": k.term, "weight": round(k.weight, 6), "in_comments": k.documents}
                    for k in topic.themes
                ],
                "groups": [
                    {
                        "group_kind": entry.group.kind,
                        "group": entry.group.key,
                        "hidden": entry.hidden,
                        "comments": list(entry.comments),
                    }
                    for entry in topic.groups
                ],
            }
            for topic in result.topics
        ],
    }
    return json_text(payload)


def _table(result: CycleComments) -> str:
    lines = [
        f"relationship {result.relationship}, cycle {result.cycle}: a group's comments are shown when at "
        f"least {result.minimum} of its respondents commented and no smaller group's can be worked out"
    ]
    if not result.topics:
        lines.append("no comments")
    for topic in result.topics:
        lines.append("")
        if topic.kind == "value_code":
            lines.append(topic.key)
        else:
            lines.append(f"not covered by any Value Code: {topic.title} ({topic.source}: {topic.key})")
        if topic.themes:
            lines.append(f"  themes: {', '.join(k.term for k in topic.themes)}")
        for entry in topic.groups:
            if entry.hidden is None:
                lines.append(f"  {entry.group.key} ({len(entry.comments)} comments)")
                lines += [f"    - {_one_line(text)}" for text in entry.comments]
        hidden: dict[str, list[str]] = {}
        for entry in topic.groups:
            if entry.hidden is not None:
                hidden.setdefault(entry.hidden, []).append(entry.group.key)
        if len(hidden) and all(entry.hidden for entry in topic.groups):
            lines.append("  nothing shown")
        for reason, keys in hidden.items():
            lines.append(
                f"  not shown ({_REASONS[reason].format(minimum=result.minimum)}): {', '.join(keys)}"
            )
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())
