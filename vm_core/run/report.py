"""Run summaries in words people read: the CLI's lines and the flow's markdown artifact."""

from __future__ import annotations

from vm_core.config import RelationshipConfig
from vm_core.run.pipeline import CycleResult, SourceResult, unmapped_summary


def _dropped(source: SourceResult) -> str:
    return ", ".join(f"{n} {why}" for why, n in sorted(source.rows_dropped.items())) or "none"


def publication_notes(result: CycleResult) -> list[str]:
    """What the re-scoring rule held back, or published over an administrator's decision."""
    notes = []
    if result.held:
        notes.append(
            f"cycle {result.cycle}: newer data held back: {result.held} — the scores published earlier "
            "stay; `vm run --publish-held` publishes anyway"
        )
    if result.risk_accepted:
        notes.append(
            f"cycle {result.cycle}: WARNING: published with --publish-held although {result.risk_accepted}; "
            "earlier outputs of this cycle can be compared with these"
        )
    return notes


def cycle_lines(result: CycleResult) -> list[str]:
    lines = [f"Cycle {result.cycle} ({result.mode})"]
    for s in result.sources:
        if s.status == "failed":
            lines.append(f"  {s.source_key} [{s.file_name}]: FAILED — {s.error}")
            continue
        read = {
            "unchanged": "unchanged since the last run",
            "remodelled": "re-modelled from the landed data",
        }.get(s.status, f"{s.rows_read} responses read")
        lines.append(
            f"  {s.source_key} [{s.file_name}]: {read}, dropped {_dropped(s)}, "
            f"{s.evaluations} evaluations stored, {s.quarantined} quarantined"
        )
        if s.list_rows is not None:
            lines.append(f"    {list_line(s)}")
    for role, n in sorted(unmapped_summary(result.sources).items()):
        lines.append(f"  unmapped role (no perspective) — {role}: {n} respondent(s)")
    if _withheld(result):
        lines.append(f"  {WITHHELD_HINT}")
    if result.no_data:
        lines.append("  scores: none — nothing of this cycle is committed yet")
    else:
        lines.append(
            f"  scores: {result.scored_cells} cells, {result.suppressed_cells} suppressed to protect "
            "anonymity (groups below the minimum size, and groups that would let one be worked out)"
        )
    lines += [f"  {note}" for note in publication_notes(result)]
    return lines


def list_line(source: SourceResult) -> str:
    """How a source's participant list met its responses: counts only, never who."""
    return (
        f"participant list: {source.list_rows} rows, {source.list_rows_without_response} of them match no "
        f"response; {source.respondents_not_listed} respondent(s) are not on the list"
    )


def cycle_markdown(config: RelationshipConfig, result: CycleResult) -> str:
    rows = "\n".join(
        f"| {s.source_key} | {s.file_name} | {s.status} | {s.rows_read} | {_dropped(s)} | {s.evaluations} "
        f"| {s.quarantined} | {s.error or ''} |"
        for s in result.sources
    )
    unmapped = "".join(f"\n- {role}: {n}" for role, n in sorted(unmapped_summary(result.sources).items()))
    return (
        f"# {config.name} — cycle {result.cycle} ({result.mode})\n\n"
        "| source | file | status | responses read | dropped | evaluations | quarantined | error |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        f"**Scores:** {result.scored_cells} cells, {result.suppressed_cells} suppressed to protect anonymity "
        f"(fewer than {config.min_group_size} responses, or withheld so such a group cannot be worked out).\n"
        + "".join(f"\n**{note}**\n" for note in publication_notes(result))
        + (
            f"\n**Unmapped roles** (counted in all/party, not in any perspective):{unmapped}\n"
            if unmapped
            else ""
        )
        + (f"\n{WITHHELD_HINT}\n" if _withheld(result) else "")
        + "".join(f"\n{s.source_key}: {list_line(s)}\n" for s in result.sources if s.list_rows is not None)
    )


#: Where an administrator finds the titles a run summary only counts (vm_core.read.roles).
WITHHELD_HINT = (
    "(job titles held by fewer than the minimum group size are counted, not shown: "
    "`vm roles unmapped --reveal` lists them)"
)


def _withheld(result: CycleResult) -> int:
    return sum(s.unmapped_titles_withheld for s in result.sources)
