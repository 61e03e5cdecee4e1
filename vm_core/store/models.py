"""The domain store: typed SQLAlchemy 2 models. Alembic migrations mirror these exactly.

Value Code library (versioned) → relationships with parties, perspectives and an
equivalence map → cycles (each pinned to a library version) → pseudonymous
participants and their evaluations → scores per cycle × Value Code × group;
improvement actions agreed for a relationship, with their full history.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: String(255),
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


intpk = Annotated[int, mapped_column(primary_key=True)]
created = Annotated[dt.datetime, mapped_column(default=utcnow)]
text = Annotated[str, mapped_column(Text)]

LEVELS = (1, 2, 3, 4, 5)
#: The method's colour scale, level 1 ("barely acceptable") to level 5 ("what good looks like").
LEVEL_COLOURS = {1: "red", 2: "amber", 3: "yellow", 4: "lime", 5: "green"}
CYCLE_MODES = ("resolve", "solve", "dissolve")
#: No configuration can publish a group smaller than this (the default is 5).
MIN_GROUP_SIZE_FLOOR = 3
#: Fewest respondents who commented that a group's comments need to be shown, unless configured
#: (``relationship.comment_min_group_size``; never below the relationship's ``min_group_size``).
COMMENT_MIN_GROUP_SIZE_DEFAULT = 10
GROUP_KINDS = ("all", "party", "perspective", "party_perspective")
#: An improvement action's status, from raised to closed.
ACTION_STATUSES = ("not_started", "in_progress", "on_hold", "complete", "cancelled")
#: Statuses that close an action: a closed action is never overdue.
CLOSED_ACTION_STATUSES = ("complete", "cancelled")
#: What an action may be linked to, by identifier / name in the library of the cycle that raised it.
ACTION_LINK_KINDS = ("value_code", "thing")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# ---------------------------------------------------------------- Value Code library


class Library(Base):
    __tablename__ = "library"
    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str]
    versions: Mapped[list[LibraryVersion]] = relationship(back_populates="library", lazy="raise")


class LibraryVersion(Base):
    __tablename__ = "library_version"
    __table_args__ = (UniqueConstraint("library_id", "version"),)
    id: Mapped[intpk]
    library_id: Mapped[int] = mapped_column(ForeignKey("library.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(50))
    source_name: Mapped[str | None]
    imported_at: Mapped[created]
    library: Mapped[Library] = relationship(back_populates="versions", lazy="raise")
    sections: Mapped[list[Section]] = relationship(
        back_populates="library_version", order_by="Section.position", lazy="raise"
    )


class Section(Base):
    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("library_version_id", "name"),)
    id: Mapped[intpk]
    library_version_id: Mapped[int] = mapped_column(ForeignKey("library_version.id", ondelete="CASCADE"))
    name: Mapped[str]
    position: Mapped[int]
    library_version: Mapped[LibraryVersion] = relationship(back_populates="sections", lazy="raise")
    value_codes: Mapped[list[ValueCode]] = relationship(
        back_populates="section", order_by="ValueCode.position", lazy="raise"
    )


value_code_thing = Table(
    "value_code_thing",
    Base.metadata,
    Column("value_code_id", ForeignKey("value_code.id", ondelete="CASCADE"), primary_key=True),
    Column("thing_id", ForeignKey("thing_that_matters.id", ondelete="CASCADE"), primary_key=True),
)


class ThingThatMatters(Base):
    __tablename__ = "thing_that_matters"
    __table_args__ = (UniqueConstraint("library_version_id", "name"),)
    id: Mapped[intpk]
    library_version_id: Mapped[int] = mapped_column(ForeignKey("library_version.id", ondelete="CASCADE"))
    name: Mapped[str]


class ValueCode(Base):
    __tablename__ = "value_code"
    __table_args__ = (
        UniqueConstraint("library_version_id", "identifier"),
        UniqueConstraint("library_version_id", "short_name"),
    )
    id: Mapped[intpk]
    library_version_id: Mapped[int] = mapped_column(ForeignKey("library_version.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(50))
    #: What findings and pages call it ("Issue resolution"); display metadata, not the version's content.
    short_name: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[text]
    help_text: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]
    section: Mapped[Section] = relationship(back_populates="value_codes", lazy="raise")
    levels: Mapped[list[ValueCodeLevel]] = relationship(
        order_by="ValueCodeLevel.level", lazy="raise", cascade="all, delete-orphan"
    )
    things: Mapped[list[ThingThatMatters]] = relationship(secondary=value_code_thing, lazy="raise")


class ValueCodeLevel(Base):
    """One of the five levelled evaluation statements of a Value Code."""

    __tablename__ = "value_code_level"
    __table_args__ = (
        UniqueConstraint("value_code_id", "level"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )
    id: Mapped[intpk]
    value_code_id: Mapped[int] = mapped_column(ForeignKey("value_code.id", ondelete="CASCADE"))
    level: Mapped[int]
    label: Mapped[str]  # short label shown on the scale, e.g. "Barely acceptable"
    statement: Mapped[text]  # the evaluation statement a respondent picks
    colour: Mapped[str] = mapped_column(String(20))


class ShortNameChange(Base):
    """A stored version's Value Code given another short name by a later import of the same version."""

    __tablename__ = "short_name_change"
    id: Mapped[intpk]
    value_code_id: Mapped[int] = mapped_column(ForeignKey("value_code.id", ondelete="CASCADE"), index=True)
    before: Mapped[str | None] = mapped_column(String(40))
    after: Mapped[str | None] = mapped_column(String(40))
    source_name: Mapped[str | None]  # the library file it came from
    changed_at: Mapped[created]


# ---------------------------------------------------------------- relationships


class Relationship(Base):
    __tablename__ = "relationship"
    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str]
    min_group_size: Mapped[int] = mapped_column(default=5)
    #: fewest respondents who commented for a group's comments to be shown (None: the default,
    #: COMMENT_MIN_GROUP_SIZE_DEFAULT); never below ``min_group_size`` (see vm_core.read.comments)
    comment_min_group_size: Mapped[int | None]
    #: documented thresholds for the agreed/divided labels (see vm_core.scoring.AgreementRule)
    agreement: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[created]
    __table_args__ = (
        CheckConstraint(f"min_group_size >= {MIN_GROUP_SIZE_FLOOR}", name="min_group_size_at_least_3"),
        CheckConstraint(
            "comment_min_group_size IS NULL OR comment_min_group_size >= min_group_size",
            name="comment_minimum_at_least_min_group_size",
        ),
    )


class Party(Base):
    """An organisation in the relationship (client, supplier, ...)."""

    __tablename__ = "party"
    __table_args__ = (UniqueConstraint("relationship_id", "key"),)
    id: Mapped[intpk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationship.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str]
    role: Mapped[str] = mapped_column(String(50))  # client | supplier | partner | ...
    position: Mapped[int]
    #: organisation values (wildcards allowed) that identify this party in source data
    match: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: when the party left the configuration (None: configured); its past evaluations and scores stay
    retired_at: Mapped[dt.datetime | None]


class Perspective(Base):
    """A canonical perspective shared across parties, e.g. "Senior leadership"."""

    __tablename__ = "perspective"
    __table_args__ = (UniqueConstraint("relationship_id", "key"),)
    id: Mapped[intpk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationship.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str]
    position: Mapped[int]
    #: when the perspective left the configuration (None: configured); its past scores stay
    retired_at: Mapped[dt.datetime | None]


class PerspectiveEquivalence(Base):
    """Party + source role value (wildcards allowed) → canonical perspective; first match wins."""

    __tablename__ = "perspective_equivalence"
    id: Mapped[intpk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationship.id", ondelete="CASCADE"))
    party_id: Mapped[int | None] = mapped_column(
        ForeignKey("party.id", ondelete="CASCADE")
    )  # None: any party
    role_pattern: Mapped[str]
    perspective_id: Mapped[int] = mapped_column(ForeignKey("perspective.id", ondelete="CASCADE"))
    position: Mapped[int]


class Participant(Base):
    """A pseudonymous respondent: only the keyed hash of the source id/e-mail is stored.

    party, role and perspective here are the latest known; each evaluation records the party and
    perspective the respondent had in *its* cycle, which is what scores use.
    """

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("relationship_id", "respondent_key"),)
    id: Mapped[intpk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationship.id", ondelete="CASCADE"))
    respondent_key: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="SET NULL"))
    source_role: Mapped[str | None]
    perspective_id: Mapped[int | None] = mapped_column(ForeignKey("perspective.id", ondelete="SET NULL"))
    first_seen: Mapped[created]


# ---------------------------------------------------------------- cycles and data


class Cycle(Base):
    __tablename__ = "cycle"
    __table_args__ = (
        UniqueConstraint("relationship_id", "number"),
        CheckConstraint("mode IN ('resolve', 'solve', 'dissolve')", name="mode_known"),
    )
    id: Mapped[intpk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationship.id", ondelete="CASCADE"))
    number: Mapped[int]
    mode: Mapped[str] = mapped_column(String(20))
    opens_on: Mapped[dt.date | None]
    closes_on: Mapped[dt.date | None]
    library_version_id: Mapped[int] = mapped_column(ForeignKey("library_version.id"))
    #: why newer data of this cycle is held back from its published scores (None: nothing held)
    held_note: Mapped[str | None] = mapped_column(Text)
    #: fingerprint of the lake files and settings the stored scores were computed from (None: never scored)
    scored_state: Mapped[str | None] = mapped_column(String(64))
    #: respondents behind the stored scores (people with a party; None: scored before this was kept)
    participants: Mapped[int | None]
    #: the scored_state the last anonymity audit found clean (a run re-audits only what changed since)
    audited_state: Mapped[str | None] = mapped_column(String(64))


class InvitedCount(Base):
    """How many people were invited, per party and (optionally) perspective: for response rates."""

    __tablename__ = "invited_count"
    __table_args__ = (UniqueConstraint("cycle_id", "party_id", "perspective_id"),)
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="CASCADE"))
    perspective_id: Mapped[int | None] = mapped_column(ForeignKey("perspective.id", ondelete="CASCADE"))
    invited: Mapped[int]


class SourceLoad(Base):
    """The latest load of one configured source into one cycle, with its counts."""

    __tablename__ = "source_load"
    __table_args__ = (UniqueConstraint("cycle_id", "source_key"),)
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(100))
    connector: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str]
    #: the connector's fingerprint of what it delivered (a file's SHA-256; an API cursor)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    #: fingerprint of the mapping the evaluations were modelled with (configuration, library version)
    model_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    #: the connector's answer plan (JSON): how landed rows become answers, to re-model without the file
    plan: Mapped[str | None] = mapped_column(Text)
    #: the party and perspective rules the evaluations were modelled with (JSON; vm_core.run.pipeline.MappingRules)
    mapping: Mapped[str | None] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_dropped: Mapped[int] = mapped_column(default=0)
    evaluations: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    loaded_at: Mapped[created]


class LakeFile(Base):
    """One committed file of the evaluation lake (vm_core.lake.storage): what readers read, and nothing else."""

    __tablename__ = "lake_file"
    __table_args__ = (UniqueConstraint("path"),)
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    source_key: Mapped[str] = mapped_column(String(100))
    table_name: Mapped[str] = mapped_column(String(100))  # "evaluations" or a landed table
    path: Mapped[str] = mapped_column(String(1000))  # relative to the lake location
    load_id: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int]
    created_at: Mapped[created]


class Evaluation(Base):
    """One participant's evaluation of one Value Code in one cycle: a level 1–5, or no level."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("cycle_id", "participant_id", "value_code_id"),
        CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint("NOT blank OR level IS NULL", name="blank_has_no_level"),
    )
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    value_code_id: Mapped[int] = mapped_column(ForeignKey("value_code.id"))
    #: the respondent's party and perspective in this cycle (people move on; earlier cycles keep theirs)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="SET NULL"))
    perspective_id: Mapped[int | None] = mapped_column(ForeignKey("perspective.id", ondelete="SET NULL"))
    level: Mapped[int | None]
    #: the cell was left unanswered (level is NULL); a NULL level with ``blank`` false is an explicit
    #: "no level" answer such as "Not applicable"
    blank: Mapped[bool] = mapped_column(default=False, server_default=false())
    comment: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(String(100))
    source_row: Mapped[int]


class QuarantinedRow(Base):
    """An input row that failed the contract, kept with the reason instead of being dropped."""

    __tablename__ = "quarantined_row"
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(100))
    source_file: Mapped[str]
    source_row: Mapped[int | None]
    source_column: Mapped[str | None]
    value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[text]
    created_at: Mapped[created]


Index("ix_quarantined_row_cycle_source", QuarantinedRow.cycle_id, QuarantinedRow.source_key)


class Score(Base):
    """Value Code score for one group in one cycle.

    A suppressed row (n below the relationship's minimum group size) carries n and
    n_no_level only: l1..l5, mean, consensus and agreement are NULL, enforced by a
    check constraint so no writer can store them.
    """

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("cycle_id", "value_code_id", "group_kind", "group_key"),
        CheckConstraint(
            "NOT suppressed OR (l1 IS NULL AND l2 IS NULL AND l3 IS NULL AND l4 IS NULL AND l5 IS NULL "
            "AND mean IS NULL AND consensus IS NULL AND agreement IS NULL)",
            name="suppressed_has_no_numbers",
        ),
        CheckConstraint(
            "group_kind IN ('all', 'party', 'perspective', 'party_perspective')", name="group_kind_known"
        ),
    )
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    value_code_id: Mapped[int] = mapped_column(ForeignKey("value_code.id"))
    group_kind: Mapped[str] = mapped_column(String(20))
    group_key: Mapped[str] = mapped_column(
        String(210)
    )  # "all" | party key | perspective key | "party/perspective"
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="CASCADE"))
    perspective_id: Mapped[int | None] = mapped_column(ForeignKey("perspective.id", ondelete="CASCADE"))
    n: Mapped[int]
    n_no_level: Mapped[int]
    n_blank: Mapped[int] = mapped_column(default=0, server_default="0")
    l1: Mapped[int | None]
    l2: Mapped[int | None]
    l3: Mapped[int | None]
    l4: Mapped[int | None]
    l5: Mapped[int | None]
    mean: Mapped[float | None]
    consensus: Mapped[float | None]
    agreement: Mapped[str | None] = mapped_column(String(20))  # "agreed" | "divided" | None
    suppressed: Mapped[bool]


class PublishedTally(Base):
    """The counts behind a cycle's published scores, per finest group, kept to guard re-scoring.

    One row per cycle × Value Code × *atom*: a party × perspective cell, or a party's respondents
    without a perspective (``perspective_id`` NULL). Every published group is a sum of atoms. When
    a cycle is scored again (a late delivery, an erasure), the new atoms are compared with these so
    that differencing old and new scores cannot single out the few people who changed
    (see ``docs/anonymity.md``). Internal: no output reads this table.
    """

    __tablename__ = "published_tally"
    __table_args__ = (
        UniqueConstraint(
            "cycle_id", "value_code_id", "party_id", "perspective_id", name="uq_published_tally_atom"
        ),
    )
    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    value_code_id: Mapped[int] = mapped_column(ForeignKey("value_code.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="CASCADE"))
    perspective_id: Mapped[int | None] = mapped_column(ForeignKey("perspective.id", ondelete="CASCADE"))
    n_blank: Mapped[int]
    n_no_level: Mapped[int]
    l1: Mapped[int]
    l2: Mapped[int]
    l3: Mapped[int]
    l4: Mapped[int]
    l5: Mapped[int]


# ---------------------------------------------------------------- improvement actions


class Action(Base):
    """An improvement action agreed for a relationship, raised by one of its cycles.

    ``version`` counts the edits: an update names the version its editor saw and is refused when
    another edit came first (``vm_core.actions.write``), so no edit is lost; each version's changes
    are one ``action_change`` row. A complete action is 100 % complete (a check constraint).
    """

    __tablename__ = "action"
    __table_args__ = (
        CheckConstraint(f"mode IN ({_sql_list(CYCLE_MODES)})", name="mode_known"),
        CheckConstraint(f"status IN ({_sql_list(ACTION_STATUSES)})", name="status_known"),
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_complete_range"),
        CheckConstraint("status <> 'complete' OR percent_complete = 100", name="complete_is_100_percent"),
        CheckConstraint("version >= 1", name="version_positive"),
    )
    id: Mapped[intpk]
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationship.id", ondelete="CASCADE"), index=True
    )
    #: the cycle whose results raised the action; its library version resolves the linked codes
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    #: the stable id of the finding that raised it (None: raised in discussion)
    finding_key: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(20))
    owner_person: Mapped[str | None] = mapped_column(String(200))
    #: the organisation that owns it (a retired party stays; None: not assigned yet)
    owner_party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="SET NULL"))
    due_on: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    percent_complete: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created]
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[created]
    updated_by: Mapped[str] = mapped_column(String(200))


class ActionLink(Base):
    """A Value Code (by identifier) or Thing That Matters (by name) an action means to improve.

    Stored by identifier or name, not by row: the next cycle may use another library version, and
    whether the action worked compares the same identifier across cycles.
    """

    __tablename__ = "action_link"
    __table_args__ = (
        UniqueConstraint("action_id", "kind", "target"),
        CheckConstraint(f"kind IN ({_sql_list(ACTION_LINK_KINDS)})", name="kind_known"),
    )
    id: Mapped[intpk]
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str]


class ActionChange(Base):
    """One edit of an action: who, when, and every changed field as ``{field: [before, after]}``.

    Version 1 is the creation (every field given, from null). One row per version: two edits can
    never both become the same version, whatever happens above the database.
    """

    __tablename__ = "action_change"
    __table_args__ = (UniqueConstraint("action_id", "version"),)
    id: Mapped[intpk]
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"))
    version: Mapped[int]
    changed_at: Mapped[created]
    changed_by: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]]
