"""Alembic owns the schema: one head, and the models and migrations agree on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select

from tests.conftest import Store
from vm_core.store.db import SCHEMA_HEAD, alembic_config
from vm_core.store.models import Base


def test_there_is_one_migration_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vm_core.store.db import make_engine

    script = ScriptDirectory.from_config(alembic_config(make_engine(f"sqlite:///{tmp_path}/x.sqlite")))
    assert len(script.get_heads()) == 1
    assert script.get_current_head() == SCHEMA_HEAD, "set vm_core.store.db.SCHEMA_HEAD to the new head"


@pytest.mark.store
def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


@pytest.mark.store
def test_migrating_twice_is_harmless(store: Store) -> None:
    from vm_core.store.db import migrate

    migrate(store.engine)
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


@contextmanager
def _newer_columns_added(engine: Engine, tables: tuple[str, ...]) -> Iterator[None]:
    """Let today's factories seed an old schema: add the columns later revisions add, drop them after."""
    from sqlalchemy import inspect, text

    added = []
    for table in tables:
        present = {c["name"] for c in inspect(engine).get_columns(table)}
        added += [(table, c.name) for c in Base.metadata.tables[table].columns if c.name not in present]
    with engine.begin() as conn:
        for table, column in added:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT"))
    yield
    with engine.begin() as conn:
        for table, column in added:
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))


def test_0002_gives_existing_evaluations_their_participants_groups(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Evaluations stored before party/perspective moved onto them keep scoring in the same groups."""
    from alembic import command
    from sqlalchemy import text

    from tests.factories import add_participants, seed_world
    from vm_core.store.db import make_engine, session_factory

    engine = make_engine(f"sqlite:///{tmp_path}/old.sqlite")
    command.upgrade(alembic_config(engine), "0001")
    with (
        _newer_columns_added(engine, ("relationship", "cycle", "party", "perspective", "value_code")),
        session_factory(engine)() as session,
        session.begin(),
    ):
        world = seed_world(session)
        (senior,) = add_participants(session, world, 1, party="client", perspective="senior")
        (unmapped,) = add_participants(session, world, 1, party="supplier", perspective=None)
        code = next(iter(world.value_codes.values()))
        for person in (senior, unmapped):  # the 0001 evaluation table: no party_id/perspective_id yet
            session.execute(
                text("INSERT INTO evaluation (cycle_id, participant_id, value_code_id, level, source_key, source_row)"
                     " VALUES (:c, :p, :v, 3, 's', 4)"),
                {"c": world.cycle.id, "p": person.id, "v": code.id},
            )  # fmt: skip
        expected = {
            senior.id: (world.parties["client"].id, world.perspectives["senior"].id),
            unmapped.id: (world.parties["supplier"].id, None),
        }
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT participant_id, party_id, perspective_id FROM evaluation")).all()
    assert {r[0]: (r[1], r[2]) for r in rows} == expected
    engine.dispose()


def test_the_newest_head_is_the_short_name_after_the_comment_minimum(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vm_core.store.db import make_engine

    script = ScriptDirectory.from_config(alembic_config(make_engine(f"sqlite:///{tmp_path}/x.sqlite")))
    assert script.get_current_head() == "0008"
    assert script.get_revision("0008").down_revision == "0007"
    assert script.get_revision("0007").down_revision == "0006"
    assert script.get_revision("0006").down_revision == "0005"
    # 0005 follows 0004 once that revision (another branch) is merged, 0003 until then
    assert script.get_revision("0005").down_revision in ("0003", "0004")


LAKE_COLUMNS = {"cycle": {"scored_state", "participants"}, "source_load": {"model_fingerprint", "plan"}}


@pytest.mark.store
def test_0005_adds_the_lake_and_round_trips(store: Store) -> None:
    """0005 creates ``lake_file`` and the new columns; down and up again keeps the rows already stored."""
    from alembic import command
    from sqlalchemy import inspect, text

    from tests.factories import seed_world
    from vm_core.store.models import LakeFile, SourceLoad

    with store.sessions() as s, s.begin():
        world = seed_world(s)
        s.add(
            SourceLoad(cycle_id=world.cycle.id, source_key="survey", connector="csv_long", file_name="a.csv")
        )
        s.add(LakeFile(cycle_id=world.cycle.id, source_key="survey", table_name="evaluations",
                       path="evaluations/x.parquet", load_id="l1", rows=3))  # fmt: skip
        cycle_id = world.cycle.id

    def columns(table: str) -> set[str]:
        return {c["name"] for c in inspect(store.engine).get_columns(table)}

    def counts() -> tuple[int, int]:
        with store.engine.connect() as conn:
            return (
                conn.execute(text("SELECT count(*) FROM cycle")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM source_load")).scalar_one(),
            )

    assert "lake_file" in inspect(store.engine).get_table_names()
    assert all(LAKE_COLUMNS[t] <= columns(t) for t in LAKE_COLUMNS)

    command.downgrade(alembic_config(store.engine), "0005")  # the revisions after the lake first
    command.downgrade(alembic_config(store.engine), "-1")
    assert "lake_file" not in inspect(store.engine).get_table_names()
    assert not any(LAKE_COLUMNS[t] & columns(t) for t in LAKE_COLUMNS)
    assert counts() == (1, 1)

    command.upgrade(alembic_config(store.engine), "head")
    assert "lake_file" in inspect(store.engine).get_table_names()
    assert all(LAKE_COLUMNS[t] <= columns(t) for t in LAKE_COLUMNS)
    assert counts() == (1, 1)
    with store.sessions() as s:
        load = s.scalar(select(SourceLoad))
        assert load is not None
        assert (load.cycle_id, load.model_fingerprint, load.plan) == (cycle_id, "", None)
        assert s.scalar(select(func.count()).select_from(LakeFile)) == 0  # the manifest went with 0005
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        if store.backend == "sqlite":  # migrations turn foreign keys off while they run, and back on
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert diff == []


ACTION_TABLES = {"action", "action_link", "action_change"}


@pytest.mark.store
def test_0006_adds_the_action_tables_and_round_trips(store: Store) -> None:
    """0006 creates the action tables; down removes only them, and up again gives an empty, usable set."""
    from alembic import command
    from sqlalchemy import inspect

    from tests.factories import seed_world
    from vm_core.actions import ActionEdit, create_action, list_actions
    from vm_core.store.models import Cycle

    with store.sessions() as s, s.begin():
        seed_world(s)
        create_action(s, "acme-bolt", 1, ActionEdit(title="Agree KPIs", value_codes=("VC1",)), by="alice")

    def tables() -> set[str]:
        return set(inspect(store.engine).get_table_names())

    assert tables() >= ACTION_TABLES
    command.downgrade(alembic_config(store.engine), "0006")
    command.downgrade(alembic_config(store.engine), "0005")
    assert not ACTION_TABLES & tables()
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Cycle)) == 1
    command.upgrade(alembic_config(store.engine), "head")
    with store.sessions() as s, s.begin():
        assert list_actions(s) == []
        again = create_action(s, "acme-bolt", 1, ActionEdit(title="Agree KPIs"), by="alice")
        assert again.version == 1
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


@pytest.mark.store
def test_0007_adds_the_comment_minimum_never_below_the_score_minimum(store: Store) -> None:
    """0007 adds ``relationship.comment_min_group_size`` (NULL: the default); the store refuses one below
    ``min_group_size``; down and up again keep the relationship."""
    from alembic import command
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import IntegrityError

    from tests.factories import seed_world

    with store.sessions() as s, s.begin():
        seed_world(s, min_group_size=5)

    def columns() -> set[str]:
        return {c["name"] for c in inspect(store.engine).get_columns("relationship")}

    assert "comment_min_group_size" in columns()
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text("UPDATE relationship SET comment_min_group_size = 4"))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE relationship SET comment_min_group_size = 5"))

    command.downgrade(alembic_config(store.engine), "0006")
    assert "comment_min_group_size" not in columns()
    command.upgrade(alembic_config(store.engine), "head")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT key, comment_min_group_size FROM relationship")).all() == [
            ("acme-bolt", None)
        ]
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


@pytest.mark.store
def test_0008_adds_short_names_and_round_trips(store: Store) -> None:
    """0008 adds ``value_code.short_name`` and ``short_name_change``; down removes only them (the Value Codes
    stay), and up again gives every Value Code no short name, as a store from before short names has."""
    from alembic import command
    from sqlalchemy import inspect, text

    from tests.factories import seed_world
    from vm_core.store.models import ShortNameChange, ValueCode

    with store.sessions() as s, s.begin():
        world = seed_world(s)
        world.value_codes["VC1"].short_name = "Delivery"
        s.add(ShortNameChange(value_code_id=world.value_codes["VC1"].id, before=None, after="Delivery"))

    def columns() -> set[str]:
        return {c["name"] for c in inspect(store.engine).get_columns("value_code")}

    def codes() -> list[str]:
        with store.engine.connect() as conn:
            return list(conn.execute(text("SELECT identifier FROM value_code ORDER BY position")).scalars())

    identifiers = codes()
    command.downgrade(alembic_config(store.engine), "0007")
    assert "short_name" not in columns()
    assert "short_name_change" not in inspect(store.engine).get_table_names()
    assert codes() == identifiers
    command.upgrade(alembic_config(store.engine), "head")
    with store.sessions() as s:
        assert set(s.scalars(select(ValueCode.short_name))) == {None}
        assert s.scalar(select(func.count()).select_from(ShortNameChange)) == 0
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
