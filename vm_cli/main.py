"""The ``vm`` command. Imports are lazy: ``vm --help`` must answer in well under a second."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from vm_core.store.library import ParsedLibrary

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO_ROOT / "examples" / "demo" / "relationship.yaml"
DEMO_ACTIONS = DEMO_CONFIG.with_name("actions.yaml")
APP_SCRIPT = REPO_ROOT / "app" / "streamlit_app.py"

#: Quiet, offline-friendly defaults for the libraries underneath (a user's own setting wins).
QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}


def _environment() -> None:
    from vm_core.settings import make_private_dir, private_files

    private_files()  # before anything writes under VM_HOME: store, landing, load packages, Prefect home
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    home = Path(os.environ.get("VM_HOME", ".vm")).resolve()
    make_private_dir(home)
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    # Prefect creates only the last folder of its home; a fresh VM_HOME needs the whole path
    make_private_dir(Path(os.environ["PREFECT_HOME"]))


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from exc


def _format_option(*formats: str) -> Any:
    """``--format`` (``fmt``): one of ``formats``, the first the default; none given: table, csv, json.

    Those are ``vm_core.read.output_formats.FORMATS``, not imported here: `vm --help` stays fast.
    """
    choices = list(formats or ("table", "csv", "json"))
    return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vm")
def main() -> None:
    """vm — Value Management: survey exports in, Value Code scores per cycle out, reviewed in an app.

    The store is chosen by VM_DATABASE_URL (default: an embedded SQLite file in VM_HOME, ./.vm).
    """
    _environment()


@main.command()
@click.option("--no-app", is_flag=True, help="Run the demo flow and exit; do not start the review app.")
@click.option("--port", default=8501, show_default=True, help="Port for the review app.")
def demo(no_app: bool, port: int) -> None:
    """Build the Northwind Council ⇄ Contoso Services demo (three cycles) and open the review app."""
    click.echo(f"Demo relationship: {DEMO_CONFIG.relative_to(REPO_ROOT)} (store: {_store_label()})")
    _run(DEMO_CONFIG, cycles=None, force=False, use_prefect=True)
    # the improvement actions the team agreed after cycles 1 and 2 (added once; a rerun keeps them)
    click.echo(_import_actions(DEMO_ACTIONS, "northwind-contoso", "demo"))
    if no_app:
        click.echo("Review app: run `vm app`")
        return
    _start_app(port)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", default="my-relationship", show_default=True, help="Relationship key.")
def init(directory: Path, key: str) -> None:
    """Scaffold a relationship configuration and a Value Code library file in DIRECTORY."""
    from vm_core.scaffold import scaffold

    try:
        written = scaffold(directory, key)
    except FileExistsError as exc:
        _fail(exc)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        f"Next: edit {directory / 'relationship.yaml'}, then `vm run {directory / 'relationship.yaml'}`"
    )


@main.group()
def library() -> None:
    """Value Code libraries: import, export, list."""


@library.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", default=None, help="Library key (default: the file name without its extension).")
@click.option(
    "--version", "version", default="1", show_default=True, help="Library version; versions are immutable."
)
@click.option("--name", default=None, help="Human-readable library name (default: the key).")
def library_import(file: Path, key: str | None, version: str, name: str | None) -> None:
    """Load a Value Code library FILE (CSV or XLSX in the method's table format).

    Columns: Section Name, Value Code Identifier, Description, Evaluation Statement 1..5, and
    optionally Short Name (at most 40 characters, unique), Help Text, Things That Matter
    (';'-separated) and Level Label 1..5. A file with bad rows imports nothing and lists one line
    per problem, naming row and column. A version already stored is kept: the same content only
    brings its short names up to date (recorded, see `vm library list KEY VERSION`); other content
    is refused.
    """
    key = key or file.stem
    from vm_core.errors import VmError
    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store import library as lib
    from vm_core.store.db import transaction

    try:
        parsed = lib.parse_library(file)
        with transaction(open_store(Settings.from_env())) as session:
            stored = lib.find_library_version(session, key, version) is not None
            lib.import_library(
                session, parsed, key=key, name=name or key, version=version, source_name=file.name
            )
    except VmError as exc:
        _fail(exc)
    named = sum(1 for code in parsed.value_codes if code.short_name)
    if stored:
        click.echo(
            f"{key} {version} is already stored with the same content; "
            f"short names as in {file.name} ({named} of {len(parsed.value_codes)} Value Codes)"
        )
        return
    click.echo(
        f"imported {len(parsed.value_codes)} Value Codes in {len(parsed.sections)} sections "
        f"as {key} {version}"
    )


@library.command("export")
@click.argument("key")
@click.argument("version")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def library_export(key: str, version: str, file: Path) -> None:
    """Write library KEY VERSION to FILE (.csv or .xlsx)."""
    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store import library as lib

    with open_store(Settings.from_env())() as session:
        found = lib.find_library_version(session, key, version)
        if found is None:
            raise click.ClickException(f"no library {key!r} version {version!r} in the store")
        lib.export_library(lib.load_library_version(session, found.id), file)
    click.echo(f"wrote {file}")


@library.command("list")
@click.argument("key", required=False)
@click.argument("version", required=False)
def library_list(key: str | None, version: str | None) -> None:
    """List the libraries and versions in the store (of library KEY only, when given).

    With KEY and VERSION: that version's Value Codes (identifier, short name, section), then the
    short-name changes later imports of the version recorded.
    """
    from sqlalchemy import func, select

    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store import library as lib
    from vm_core.store.models import Library, LibraryVersion, ValueCode

    with open_store(Settings.from_env())() as session:
        if key is not None and version is not None:
            found = lib.find_library_version(session, key, version)
            if found is None:
                raise click.ClickException(f"no library {key!r} version {version!r} in the store")
            click.echo(_library_codes(lib.load_library_version(session, found.id)))
            for identifier, change in lib.short_name_history(session, found.id):
                click.echo(
                    f"{change.changed_at:%Y-%m-%d %H:%M} {identifier}: short name {_shown(change.before)} → "
                    f"{_shown(change.after)} ({change.source_name or 'no file'})"
                )
            return
        query = (
            select(
                Library.key,
                LibraryVersion.version,
                func.count(ValueCode.id),
                func.count(ValueCode.short_name),
            )
            .join(LibraryVersion, LibraryVersion.library_id == Library.id)
            .join(ValueCode, ValueCode.library_version_id == LibraryVersion.id, isouter=True)
            .group_by(Library.key, LibraryVersion.version)
            .order_by(Library.key, LibraryVersion.version)
        )
        rows = session.execute(query if key is None else query.where(Library.key == key)).all()
    for library_key, library_version, count, named in rows:
        click.echo(f"{library_key}  {library_version}  {count} Value Codes, {named} with a short name")
    if not rows:
        click.echo("no libraries yet: `vm library import FILE --key KEY --version V`")


def _shown(short_name: str | None) -> str:
    return "(none)" if short_name is None else repr(short_name)


def _library_codes(parsed: ParsedLibrary) -> str:
    """One line per Value Code: identifier, short name (or "—"), section, in columns."""
    from vm_core.read.text_table import aligned

    rows = [("identifier", "short name", "section")] + [
        (code.identifier, code.short_name or "—", code.section) for code in parsed.value_codes
    ]
    return "\n".join(aligned(rows, "<<<"))


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cycle", "cycles", type=int, multiple=True, help="Cycle number (repeatable; default: all).")
@click.option("--force", is_flag=True, help="Read every source again even when unchanged since the last run.")
@click.option(
    "--no-prefect",
    is_flag=True,
    help="Run the same steps in-process without Prefect (no API server start-up).",
)
@click.option(
    "--publish-held",
    is_flag=True,
    help="Administrators: publish newer data held back because comparing it with the scores already "
    "shown would single out the few people who changed (earlier outputs can then be differenced).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    help="Seconds to wait for another run of the same relationship to finish (default: stop at once).",
)
def run(
    config: Path, cycles: tuple[int, ...], force: bool, no_prefect: bool, publish_held: bool, wait: float
) -> None:
    """Run the flow for a relationship CONFIG: ingest, validate, store, score, then audit anonymity.

    A source whose delivery is unchanged is skipped; one whose mapping changed (parties, roles,
    levels, library) is re-modelled from the lake without reading its file again. One run per
    relationship at a time: another one running makes this one stop with a line saying so.
    """
    _run(
        config, list(cycles) or None, force, use_prefect=not no_prefect, publish_held=publish_held, wait=wait
    )


def _run(
    config_path: Path,
    cycles: list[int] | None,
    force: bool,
    use_prefect: bool,
    publish_held: bool = False,
    wait: float = 0,
) -> None:
    from vm_core.config import load_config
    from vm_core.errors import VmError
    from vm_core.run.orchestration import LocalSteps, RunResult, SourcesFailed, run_relationship
    from vm_core.run.pipeline import CycleResult, SourceResult
    from vm_core.run.report import cycle_lines

    try:
        config = load_config(config_path)
        numbers = cycles or [c.number for c in config.cycles]
        for n in numbers:
            config.cycle(n)
    except VmError as exc:
        _fail(exc)
    failed: SourcesFailed | None = None
    if use_prefect:
        click.echo(
            "Starting the Prefect flow (a temporary local Prefect server starts unless PREFECT_API_URL "
            "is set; this takes ~20 s)…"
        )
        from flows.run_relationship import run_relationship as flow

        try:
            raw = flow(str(config_path), cycles=numbers, force=force, publish_held=publish_held, wait=wait)
            assert isinstance(raw, list)  # a run that ends Failed raises its error here
            run = RunResult(
                [CycleResult(**{**r, "sources": [SourceResult(**s) for s in r["sources"]]}) for r in raw]
            )
        except SourcesFailed as exc:
            run, failed = exc.run, exc
        except VmError as exc:
            _fail(exc)
        except RuntimeError as exc:
            if "Prefect API server" not in str(exc):
                raise
            raise click.ClickException(
                f"{exc} Start one with `prefect server start` and set PREFECT_API_URL, raise "
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run the same steps with --no-prefect."
            ) from exc
        for result in run.cycles:
            for line in cycle_lines(result):
                click.echo(line)
    else:
        from vm_core.read.audit import all_clear
        from vm_core.settings import Settings

        def report(_config: object, result: CycleResult) -> None:
            for line in cycle_lines(result):
                click.echo(line)

        steps = LocalSteps(Settings.from_env(), report, wait=wait)
        try:
            run = run_relationship(
                config, steps, numbers, force=force, publish_held=publish_held, progress=click.echo
            )
        except SourcesFailed as exc:
            run, failed = exc.run, exc
        except VmError as exc:
            _fail(exc)
        click.echo(f"anonymity audit: {all_clear(run.audited_tables)}")
    if failed is not None:
        raise click.ClickException(f"{failed}; what was committed before stays as it was")


@main.command("connectors")
def connectors_command() -> None:
    """List the connectors a source's `connector:` may name, with their options."""
    from vm_core.ingest.plugins import PROBLEMS, connectors

    for name, connector in sorted(connectors().items()):
        click.echo(f"{name}: {connector.description}")
        for option in connector.options:
            kinds = " or ".join(t.__name__ for t in option.types)
            click.echo(f"    {option.name} ({kinds}): {option.help}")
        if not connector.options:
            click.echo("    (no options)")
    for name, problem in sorted(PROBLEMS.items()):
        click.echo(f"skipped plugin {name}: {problem}", err=True)


@main.group()
def sources() -> None:
    """Try a relationship's sources, or find the connector for a file, before a run."""


@sources.command("sniff")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sources_sniff(file: Path) -> None:
    """Say which connector reads FILE and print a starter `sources:` entry for relationship.yaml.

    Exit 1, with one line saying why, when no built-in connector reads it.
    """
    from connectors.starter import sniff
    from vm_core.errors import VmError

    try:
        starter = sniff(file, str(file))
    except VmError as exc:
        _fail(exc)
    click.echo(f"{file.name}: read by {starter.connector}", err=True)
    click.echo(starter.yaml(), nl=False)


@sources.command("check")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cycle", "cycles", type=int, multiple=True, help="Cycle number (repeatable; default: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sources_check(config: Path, cycles: tuple[int, ...], fmt: str) -> None:
    """Read every source of CONFIG as `vm run` would, writing nothing; exit 1 if any cannot be read.

    Per source: files, rows read and dropped, answers per Value Code, answers it would quarantine
    (by reason and column), respondents without a party or perspective, or the one-line error.
    """
    import json
    from dataclasses import asdict

    from vm_core.config import load_config
    from vm_core.errors import VmError
    from vm_core.run.check import check_lines, check_relationship
    from vm_core.settings import Settings

    try:
        relationship = load_config(config)
        results = check_relationship(
            Settings.from_env(), relationship, list(cycles) or None, lambda line: click.echo(line, err=True)
        )
    except VmError as exc:
        _fail(exc)
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in results], indent=2))
    else:
        for result in results:
            for line in check_lines(result):
                click.echo(line)
    failed = [r for r in results if r.error]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} sources cannot be read")
    if not results:
        click.echo("no sources configured", err=True)


@main.command()
def migrate() -> None:
    """Create the store, or bring its schema to this version of vm (the app never does)."""
    from vm_core.settings import Settings
    from vm_core.store.db import make_engine, migrate, schema_revisions

    engine = make_engine(Settings.from_env().database_url)
    before, head = schema_revisions(engine)
    migrate(engine)
    click.echo(f"store ({_store_label()}): schema {before or 'none'} → {head}" if before != head else
               f"store ({_store_label()}): schema {head}, nothing to do")  # fmt: skip


@main.command()
@click.option("--relationship", "relationship_key", help="Relationship key (default: all).")
@click.option("--cycle", type=int, help="Cycle number (default: all).")
@_format_option()
def scores(relationship_key: str | None, cycle: int | None, fmt: str) -> None:
    """Print Value Code scores per group. Hidden groups show no number, only why they are hidden."""
    from vm_core.read.reader import open_reader
    from vm_core.read.scores import format_scores, score_records

    with _reader(open_reader)() as session:
        records = score_records(session, relationship_key, cycle)
    if not records:
        raise click.ClickException("no scores match; run `vm run CONFIG` (or `vm demo`) first")
    click.echo(format_scores(records, fmt), nl=False)


@main.command()
@click.option("--relationship", "relationship_key", required=True, help="Relationship key.")
@click.option("--cycle", type=int, required=True, help="Cycle number.")
@click.option(
    "--kind",
    type=click.Choice(["party", "perspective", "change"]),
    help="party: party against party within each perspective and in total; perspective: perspective "
    "against perspective across and within the parties; change: against the previous and the first "
    "cycle (same Value Code version only). Default: all three.",
)
@_format_option()
def gaps(relationship_key: str, cycle: int, kind: str | None, fmt: str) -> None:
    """Compare published cells, largest practical gap first: θ, its 95% CI, p, BH q and a verdict.

    Only cells that are published are compared: a hidden cell is never part of a gap. Each kind
    (each change baseline) is one Benjamini–Hochberg family over the cycle's heatmap; a verdict
    needs q ≤ 0.05 and θ ≥ 0.56 (or ≤ 0.44), and at least 10 answers per cell (docs/statistics.md).
    """
    from vm_core.read.gaps import KINDS, by_practical_size, format_gaps, read_gaps
    from vm_core.read.reader import open_reader

    try:
        with _reader(open_reader)() as session:
            found = read_gaps(session, relationship_key, cycle, [kind] if kind else KINDS)
    except LookupError as exc:
        _fail(exc)
    if not found and fmt == "table":
        click.echo(
            f"no comparisons in cycle {cycle} of {relationship_key}: a gap needs two published cells, "
            "a change an earlier cycle"
        )
        return
    click.echo(format_gaps(by_practical_size(found), fmt), nl=False)


@main.command()
@click.option("--relationship", "relationship_key", required=True, help="Relationship key.")
@click.option("--cycle", type=int, required=True, help="Cycle number.")
@_format_option()
@click.option("--limit", type=click.IntRange(min=1), help="Only the K highest-ranked findings.")
def findings(relationship_key: str, cycle: int, fmt: str, limit: int | None) -> None:
    """The cycle's findings in sentences, ranked, each with its evidence and the cells it cites.

    Party gaps and changes with a verdict (as `vm gaps`), perspectives that agree on both sides and
    perspectives that are divided — only from published cells with at least 10 answers each, so a
    finding never rests on a hidden cell. Rank = strength × breadth (docs/statistics.md, "Findings").
    """
    from vm_core.read.findings import format_findings, read_findings
    from vm_core.read.reader import open_reader

    try:
        with _reader(open_reader)() as session:
            found = read_findings(session, relationship_key, cycle)
    except LookupError as exc:
        _fail(exc)
    if not found and fmt == "table":
        click.echo(
            f"no findings in cycle {cycle} of {relationship_key}: no published cell or comparison "
            "passes the rules (docs/statistics.md, Findings)"
        )
        return
    click.echo(format_findings(found[:limit], fmt), nl=False)


@main.command()
@click.option("--relationship", "relationship_key", help="Relationship key (default: all).")
@click.option("--cycle", type=int, help="Cycle number (default: all).")
@_format_option()
@click.option(
    "--reveal-values",
    is_flag=True,
    help="Administrators: print the raw values (what respondents wrote) instead of their kind and length.",
)
def quarantine(relationship_key: str | None, cycle: int | None, fmt: str, reveal_values: bool) -> None:
    """List input rows kept aside by validation: file, row, column, masked value and reason."""
    from vm_core.read.quarantine import format_quarantine, read_quarantine
    from vm_core.read.reader import open_reader

    with _reader(open_reader)() as session:
        frame = read_quarantine(session, relationship_key, cycle, reveal_values=reveal_values)
    if frame.empty:
        click.echo("no quarantined rows")
        return
    if reveal_values:
        click.echo(REVEAL_WARNING, err=True)
    click.echo(format_quarantine(frame, fmt, revealed=reveal_values), nl=False)


@main.command()
@click.option("--relationship", "relationship_key", required=True, help="Relationship key.")
@click.option("--cycle", type=int, required=True, help="Cycle number.")
@click.option(
    "--value-code", help="Only this Value Code (identifier); free text no Value Code covers is left out."
)
@_format_option()
def comments(relationship_key: str, cycle: int, value_code: str | None, fmt: str) -> None:
    """Print what respondents wrote, per Value Code and group, with its themes (TF-IDF keywords).

    A group's comments are shown only when enough of its respondents commented (the relationship's
    comment_min_group_size, default 10) and no smaller group's comments can be worked out from the
    groups shown; contact details are masked, the order says nothing about who wrote what. Free text no
    Value Code covers (a source's free_text columns) follows, as candidate new Things That Matter.
    """
    from vm_core.errors import VmError
    from vm_core.read.comments import format_comments, read_comments
    from vm_core.read.reader import open_reader
    from vm_core.settings import Settings

    settings = Settings.from_env()
    try:
        with _reader(open_reader, settings)() as session:
            result = read_comments(session, settings.lake(), relationship_key, cycle, value_code)
    except VmError as exc:
        _fail(exc)
    click.echo(format_comments(result, fmt), nl=False)


REVEAL_WARNING = (
    "warning: raw values follow: what respondents wrote may identify them or others; "
    "do not paste them into tickets, chats or logs"
)


@main.group()
def roles() -> None:
    """Job titles (roles) in the data, e.g. those that map to no perspective."""


@roles.command("unmapped")
@click.option("--relationship", "relationship_key", help="Relationship key (default: all).")
@click.option("--cycle", type=int, help="Cycle number (default: all).")
@click.option(
    "--reveal",
    is_flag=True,
    help="Administrators: show every title, also those held by fewer than the minimum group size.",
)
def roles_unmapped(relationship_key: str | None, cycle: int | None, reveal: bool) -> None:
    """List respondents whose role maps to no perspective, by party and job title.

    Titles held by fewer than the relationship's minimum group size are counted, not shown,
    unless --reveal: a rare title, or one written with a name, identifies its holder.
    """
    from vm_core.read.reader import open_reader
    from vm_core.read.roles import read_unmapped, unmapped_lines
    from vm_core.settings import Settings

    settings = Settings.from_env()
    with _reader(open_reader, settings)() as session:
        stored = read_unmapped(session, settings.lake(), relationship_key, cycle)
    if not stored:
        click.echo("no unmapped roles")
        return
    if reveal:
        click.echo(REVEAL_WARNING, err=True)
    for line in unmapped_lines(stored, reveal=reveal):
        click.echo(line)


@main.group()
def audit() -> None:
    """Audits of what is published."""


@audit.command("anonymity")
@click.option("--relationship", "relationship_key", help="Relationship key (default: all).")
@click.option("--cycle", type=int, help="Cycle number (default: all).")
@_format_option("table", "json")
def audit_anonymity(relationship_key: str | None, cycle: int | None, fmt: str) -> None:
    """Try to work out small groups from every published output; exit 1 naming any leak.

    For every cycle × Value Code: no union of hidden groups smaller than the minimum may be
    derivable from the shown groups, every shown number must match the evaluations, and a
    hidden group must show no number at all. Then every output derived from the scores (gaps,
    changes, roll-ups, findings, action effects, engagement, comments) must rest on shown cells
    only, with numbers recomputed from them, and pass the same attacks (a run audits the scores).
    """
    from vm_core.read.audit import audit_anonymity as run_audit
    from vm_core.read.audit import format_report
    from vm_core.read.reader import open_reader
    from vm_core.settings import Settings

    settings = Settings.from_env()
    with _reader(open_reader, settings)() as session:
        report = run_audit(session, settings.lake(), relationship_key, cycle)
    click.echo(format_report(report, fmt), nl=False)
    if not report.ok:
        raise SystemExit(1)


@main.command()
@click.option("--port", default=8501, show_default=True)
def app(port: int) -> None:
    """Start the review app (Streamlit) on this machine."""
    _start_app(port)


#: The review app's Streamlit settings: those of the repository's .streamlit/config.toml (which Streamlit
#: reads only when started from the repository folder), passed as flags so `vm app` started anywhere
#: uses them. tests/test_cli.py checks the two agree.
APP_SETTINGS = {
    "server.headless": "true",
    "server.address": "127.0.0.1",  # loopback only
    "browser.gatherUsageStats": "false",
    "theme.light.primaryColor": "#1F3A5F",  # a light and a dark variant: the app follows the computer's scheme
    "theme.dark.primaryColor": "#9DBBE3",
    "client.toolbarMode": "minimal",  # a review app for clients: no developer menu, no "Deploy" button
}


def app_command(port: int) -> list[str]:
    """The review app served on loopback only (what `vm app` runs, and what the browser test starts)."""
    flags = [part for name, value in APP_SETTINGS.items() for part in (f"--{name}", value)]
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), "--server.port", str(port), *flags]


def _start_app(port: int) -> None:
    from vm_core.read.serving import run_until_stopped

    click.echo(f"Review app: http://127.0.0.1:{port}  (Ctrl+C to stop)")
    raise SystemExit(run_until_stopped(app_command(port)))


@main.command()
@click.option("--fix", is_flag=True, help="Make every path under VM_HOME private (0600 files, 0700 folders).")
def doctor(fix: bool) -> None:
    """Check this installation: file permissions, the secret, the store, the landing and serving.

    Prints one line per finding and exits 1 when something is wrong.
    """
    from vm_core.run.doctor import diagnose, is_healthy
    from vm_core.settings import Settings

    findings = diagnose(Settings.from_env(), fix=fix)
    for finding in findings:
        click.echo(finding.line())
    if not is_healthy(findings):
        raise SystemExit(1)


@main.group()
def participants() -> None:
    """Respondents: erase one person (they are stored only as a keyed pseudonym)."""


@participants.command("forget")
@click.argument("key", required=False)
@click.option("--relationship", "relationship_key", required=True, help="Relationship key.")
@click.option("--pseudonym", help="The respondent key (64 hex digits) instead of KEY.")
def participants_forget(key: str | None, relationship_key: str, pseudonym: str | None) -> None:
    """Erase the respondent KEY (id or e-mail as the source had it) from the store and the landing.

    Deletes their evaluations, participant row and quarantined rows, and every landed row of theirs,
    then re-scores each cycle they were in. Prints counts only; exits 1 when nobody matches.
    """
    from vm_core.errors import VmError
    from vm_core.run.participants import checked_pseudonym, forget, pseudonym_for
    from vm_core.settings import Settings

    if (key is None) == (pseudonym is None):
        raise click.UsageError("give either KEY or --pseudonym")
    settings = Settings.from_env()
    try:
        respondent = (
            checked_pseudonym(pseudonym)
            if pseudonym
            else pseudonym_for(settings, relationship_key, key or "")
        )
        forgotten = forget(settings, relationship_key, respondent)
    except VmError as exc:
        _fail(exc)
    for line in forgotten.lines(relationship_key):
        click.echo(line)


@main.group()
def landing() -> None:
    """Landed raw data in the lake (what a changed mapping is re-modelled from)."""


@landing.command("purge")
@click.option("--relationship", "relationship_key", help="Relationship key (default: all).")
@click.option(
    "--days", type=click.IntRange(min=1), help="Keep this many days (default: VM_LANDING_RETENTION_DAYS)."
)
def landing_purge(relationship_key: str | None, days: int | None) -> None:
    """Delete landed files of loads older than the retention period; evaluations and scores stay."""
    from sqlalchemy import select

    from vm_core.lake.upkeep import purge_expired
    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store.models import Relationship

    settings = Settings.from_env()
    days = days or settings.landing_retention_days
    if days is None:
        raise click.UsageError("give --days or set VM_LANDING_RETENTION_DAYS")
    with open_store(settings)() as session:
        keys = session.scalars(select(Relationship.key).order_by(Relationship.key)).all()
    if relationship_key is not None:
        if relationship_key not in keys:
            raise click.ClickException(f"no relationship {relationship_key!r} in the store")
        keys = [relationship_key]
    for key in keys:
        for line in purge_expired(settings, key, days).lines(key, days):
            click.echo(line)


# ---------------------------------------------------------------- improvement actions


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | str | None:
    """An option's date as YYYY-MM-DD; an empty value ("") is kept, to clear the field."""
    if not value:
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


#: The statuses, as ``vm_core.store.models.ACTION_STATUSES`` has them (not imported: `vm --help` stays fast).
ACTION_STATUS_HELP = "not_started, in_progress, on_hold, complete, cancelled"


def _options(*options: Any) -> Any:
    """Apply ``options`` in the order given (so --help lists them so)."""

    def decorate(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


_filter_options = _options(
    click.option("--relationship", "relationship_key", help="Relationship key (default: all)."),
    click.option("--cycle", type=int, help="Raised by this cycle."),
    click.option(
        "--status", "statuses", multiple=True, help=f"Any of these (repeatable): {ACTION_STATUS_HELP}."
    ),
    click.option("--owner", help="Part of the owner's name (any case)."),
    click.option("--party", help="Owned by this party (key)."),
    click.option("--code", help="Linked to this Value Code."),
    click.option("--thing", help="Linked to this Thing That Matters."),
    click.option("--due-from", callback=_date, metavar="YYYY-MM-DD", help="Due on or after this date."),
    click.option("--due-before", callback=_date, metavar="YYYY-MM-DD", help="Due before this date."),
    click.option("--overdue", is_flag=True, help="Past due and neither complete nor cancelled."),
)

_edit_options = _options(
    click.option("--title", help="What will be done, in a line (required for add)."),
    click.option("--description", help="What and why, in more words."),
    click.option(
        "--code",
        "value_codes",
        multiple=True,
        help="A Value Code it means to improve (repeatable; update: replaces those linked).",
    ),
    click.option(
        "--thing",
        "things",
        multiple=True,
        help="A Thing That Matters it means to improve (repeatable; update: replaces those linked).",
    ),
    click.option("--finding", "finding_key", help="The id of the finding that raised it."),
    click.option("--mode", help="resolve, solve or dissolve (add: default the cycle's mode)."),
    click.option("--owner", "owner_person", help="The person who owns it."),
    click.option("--party", "owner_party", help="The party (key) that owns it."),
    click.option("--due", "due_on", callback=_date, metavar="YYYY-MM-DD", help="Due date."),
    click.option("--status", help=f"One of {ACTION_STATUS_HELP} (complete sets 100%)."),
    click.option("--percent", "percent_complete", type=int, help="% complete, 0–100."),
    click.option("--notes", help="Notes (replace the notes there are)."),
    click.option("--by", help="Who makes the change, for the history (default: your login name)."),
)


def _action_filter(options: dict[str, Any]) -> Any:
    from vm_core.actions import ActionFilter

    return ActionFilter(
        relationship=options["relationship_key"],
        cycle=options["cycle"],
        statuses=options["statuses"],
        owner=options["owner"],
        party=options["party"],
        code=options["code"],
        thing=options["thing"],
        due_from=options["due_from"],
        due_before=options["due_before"],
        overdue=options["overdue"],
    )


def _action_edit(options: dict[str, Any]) -> Any:
    """The fields given on the command line; an empty text clears an optional field."""
    from vm_core.actions import ActionEdit

    given = {name: value for name, value in options.items() if value is not None and value != ()}
    if given.get("due_on") == "":
        given["due_on"] = None
    for links in ("value_codes", "things"):  # [] (from --no-codes / --no-things): unlink them all
        if links in given:
            given[links] = tuple(given[links])
    return ActionEdit(**given)


def _editor(by: str | None) -> str:
    if by:
        return by
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError) as exc:
        raise click.UsageError("give --by NAME: who makes the change, for the history") from exc


def _listed_actions(options: dict[str, Any]) -> Any:
    from vm_core.actions import list_actions
    from vm_core.errors import VmError
    from vm_core.read.reader import open_reader

    try:
        with _reader(open_reader)() as session:
            return list_actions(session, _action_filter(options))
    except VmError as exc:
        _fail(exc)


@main.group()
def actions() -> None:
    """Improvement actions agreed with the parties: list, add, update, history, export — and their effect.

    Two people changing one action: the second is told who changed what and when, and nothing is
    lost (give the --version you saw; `vm actions list` shows it).
    """


@actions.command("list")
@_filter_options
@_format_option()
def actions_list(fmt: str, **filters: Any) -> None:
    """List actions by relationship and due date (undated last); csv and json have every column."""
    from vm_core.actions import format_actions

    views = _listed_actions(filters)
    if not views and fmt == "table":
        click.echo("no actions match")
        return
    click.echo(format_actions(views, fmt), nl=False)


@actions.command("effect")
@click.option("--relationship", "relationship_key", help="Relationship key (default: all).")
@click.option("--cycle", type=int, help="Only the actions this cycle raised.")
@_format_option()
def actions_effect(relationship_key: str | None, cycle: int | None, fmt: str) -> None:
    """Whether each action worked: improved, no detectable change, declined or not yet measurable.

    At the next cycle with published scores, the action's Value Codes (and those of its Things That
    Matter) are compared with their cells of the cycle that raised it, and with the Value Codes no
    action worked on: a difference in differences of θ, its 95% CI and the Benjamini–Hochberg q across
    the actions of that cycle (docs/statistics.md). Only published cells with at least 10 answers
    take part. csv has a row per action and group; json adds each linked cell's change.
    """
    from vm_core.read.action_effects import format_effects, read_action_effects
    from vm_core.read.reader import open_reader

    try:
        with _reader(open_reader)() as session:
            found = read_action_effects(session, relationship_key, cycle=cycle)
    except LookupError as exc:
        _fail(exc)
    if not found and fmt == "table":
        click.echo("no actions match")
        return
    click.echo(format_effects(found, fmt), nl=False)


@actions.command("add")
@click.option("--relationship", "relationship_key", required=True, help="Relationship key.")
@click.option("--cycle", type=int, required=True, help="The cycle whose results raised it.")
@_edit_options
def actions_add(relationship_key: str, cycle: int, by: str | None, **edit: Any) -> None:
    """Add an action: Value Codes and Things That Matter are those of the cycle's library."""
    from vm_core.actions import create_action
    from vm_core.errors import VmError
    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store.db import transaction

    try:
        with transaction(open_store(Settings.from_env())) as session:
            view = create_action(session, relationship_key, cycle, _action_edit(edit), by=_editor(by))
    except VmError as exc:
        _fail(exc)
    click.echo(f"added action {view.id} (version {view.version}): {view.fields.title}")


@actions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--relationship", "relationship_key", required=True, help="Relationship key.")
@click.option("--by", help="Who imports them, for the history (default: your user name).")
def actions_import(file: Path, relationship_key: str, by: str | None) -> None:
    """Add the actions listed in a YAML FILE (`actions:`, each with its `cycle:`); ones already there are kept."""
    click.echo(_import_actions(file, relationship_key, _editor(by)))


def _import_actions(file: Path, relationship_key: str, by: str) -> str:
    from vm_core.actions.importing import import_actions
    from vm_core.errors import VmError
    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store.db import transaction

    try:
        with transaction(open_store(Settings.from_env())) as session:
            imported = import_actions(session, relationship_key, file, by=by)
    except VmError as exc:
        _fail(exc)
    return f"actions: {len(imported.added)} added, {imported.already_there} already there ({file.name})"


@actions.command("update")
@click.argument("action_id", type=int)
@click.option(
    "--version",
    "seen_version",
    type=int,
    help="The version you saw: refused, naming who changed what, if the action changed since. "
    "Without it the fields you give overwrite what is there now.",
)
@_edit_options
@click.option("--no-codes", is_flag=True, help="Unlink every Value Code.")
@click.option("--no-things", is_flag=True, help="Unlink every Thing That Matters.")
def actions_update(
    action_id: int, seen_version: int | None, by: str | None, no_codes: bool, no_things: bool, **edit: Any
) -> None:
    """Change action ACTION_ID: only the fields given; an empty value ("") clears an optional one."""
    from vm_core.actions import action_history, get_action, update_action
    from vm_core.errors import VmError
    from vm_core.run.pipeline import open_store
    from vm_core.settings import Settings
    from vm_core.store.db import transaction

    unlinked = [name for name, flag in (("value_codes", no_codes), ("things", no_things)) if flag]
    if any(edit[name] for name in unlinked):
        raise click.UsageError("give --code/--thing or --no-codes/--no-things, not both")
    changes = _action_edit({**edit, **{name: [] for name in unlinked}})
    try:
        with transaction(open_store(Settings.from_env())) as session:
            seen = seen_version if seen_version is not None else get_action(session, action_id).version
            view = update_action(session, action_id, seen, changes, by=_editor(by))
            changed = list(action_history(session, action_id)[-1].changes) if view.version != seen else []
    except VmError as exc:
        _fail(exc)
    if not changed:
        click.echo(f"action {action_id}: nothing changed (version {view.version})")
        return
    click.echo(f"updated action {action_id} to version {view.version}: {', '.join(changed)}")


@actions.command("history")
@click.argument("action_id", type=int)
def actions_history(action_id: int) -> None:
    """Every version of action ACTION_ID: when (UTC), who, and each field from what to what."""
    from vm_core.actions import action_history, history_lines
    from vm_core.errors import VmError
    from vm_core.read.reader import open_reader

    try:
        with _reader(open_reader)() as session:
            lines = history_lines(action_history(session, action_id))
    except VmError as exc:
        _fail(exc)
    for line in lines:
        click.echo(line)


@actions.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_filter_options
def actions_export(file: Path, **filters: Any) -> None:
    """Write the actions (filtered as for `list`) to FILE: a workbook (.xlsx) or CSV (.csv)."""
    from vm_core.actions import write_actions
    from vm_core.errors import VmError

    views = _listed_actions(filters)
    try:
        write_actions(views, file)
    except VmError as exc:
        _fail(exc)
    click.echo(f"wrote {len(views)} action{'' if len(views) == 1 else 's'} to {file}")


def _reader(open_reader: Any, settings: Any = None) -> Any:
    """Read-only sessions for the listing commands (they never migrate); one line if the store is not ready."""
    from vm_core.errors import VmError
    from vm_core.settings import Settings

    try:
        return open_reader((settings or Settings.from_env()).database_url)
    except VmError as exc:
        _fail(exc)


def _store_label() -> str:
    url = os.environ.get("VM_DATABASE_URL")
    if not url:
        return f"embedded SQLite in {Path(os.environ.get('VM_HOME', '.vm'))}"
    return url.split("@")[-1] if "@" in url else url


if __name__ == "__main__":
    main()
