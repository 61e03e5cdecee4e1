"""What the pages draw that Streamlit has no element for: the heatmap table, level cards, the chart.

Builders return HTML strings or figures and never touch the store; every text that
comes from the store is escaped.
"""

from __future__ import annotations

import math
from html import escape

import plotly.graph_objects as go

from app.data import LEVEL_COLOURS, LEVELS, Cell, Column, HeatmapData, ValueCodeDetail

#: The method's scale as colours a client can read: background and text colour per colour name.
PALETTE = {
    "red": ("#D64541", "#FFFFFF"),
    "amber": ("#F0932B", "#1F2328"),
    "yellow": ("#F6D55C", "#1F2328"),
    "lime": ("#A8D46F", "#1F2328"),
    "green": ("#2E9E5B", "#FFFFFF"),
}
SUPPRESSED = ("#ECEEF1", "#5F6B7A")
AGREED_MARK, DIVIDED_MARK = "●", "◐"


def level_colours(level: int) -> tuple[str, str]:
    """(background, text) hex colours of a level on the method's scale."""
    return PALETTE[LEVEL_COLOURS[level]]


def nearest_level(mean: float) -> int:
    """The level a mean rounds to (halves round up), for its colour."""
    return min(max(math.floor(mean + 0.5), LEVELS[0]), LEVELS[-1])


#: What a hidden cell says instead of numbers, by its reason (read_scores' ``suppression``).
WITHHELD_TEXT = "withheld to protect a smaller group"


def hidden_text(cell: Cell, min_group_size: int) -> str:
    """What a suppressed cell says instead of numbers: its reason, never a count."""
    if cell.suppression == "complementary":
        # big enough itself, but showing it would let a smaller group's numbers be worked out
        return WITHHELD_TEXT
    return f"fewer than {min_group_size} responses"


def hidden_reason(cell: Cell, min_group_size: int) -> str:
    """Why a suppressed group is not shown, in a sentence."""
    text = hidden_text(cell, min_group_size)
    if cell.suppression == "complementary":
        return (
            f"{text}: its numbers, with the others shown, would reveal a group of fewer than {min_group_size}"
        )
    return text


def _mark(agreement: str | None) -> str:
    return {"agreed": AGREED_MARK, "divided": DIVIDED_MARK}.get(agreement or "", "")


def agreement_label(agreement: str | None) -> str:
    """E.g. "◐ divided"; empty when the group is neither agreed nor divided."""
    return f"{_mark(agreement)} {agreement}" if agreement else ""


# ---------------------------------------------------------------- heatmap

HEATMAP_CSS = """
<style>
#vm-heatmap-wrap { overflow-x: auto; font-family: inherit; }
#vm-heatmap { border-collapse: separate; border-spacing: 3px; width: 100%; min-width: 1060px;
  table-layout: fixed;
  font-size: 0.82rem; color: #1F2328; }
#vm-heatmap th { font-weight: 600; }
#vm-heatmap thead th { background: #F4F5F7; color: #394150; padding: 6px 4px; text-align: center;
  line-height: 1.2; border-radius: 4px; font-size: 0.76rem; }
#vm-heatmap thead tr.vm-bands th { background: #1F3A5F; color: #FFFFFF; font-size: 0.8rem;
  letter-spacing: 0.02em; }
#vm-heatmap thead tr.vm-bands th.vm-corner { background: transparent; text-align: left;
  vertical-align: bottom; color: #5F6B7A; font-size: 0.74rem; text-transform: uppercase;
  letter-spacing: 0.06em; padding-left: 2px; }
#vm-heatmap thead tr.vm-groups th { font-size: 0.74rem; padding: 5px 2px; }
#vm-heatmap col.vm-label-col { width: 15rem; }
#vm-heatmap tr.vm-section th { background: transparent; color: #1F3A5F; text-align: left;
  padding: 14px 4px 4px; font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em;
  border-bottom: 2px solid #1F3A5F; border-radius: 0; }
#vm-heatmap tbody th.vm-code { text-align: left; font-weight: 400; padding: 4px 8px 4px 2px;
  vertical-align: middle; }
#vm-heatmap .vm-id { display: block; font-weight: 700; font-size: 0.8rem; color: #1F3A5F;
  letter-spacing: 0.01em; }
#vm-heatmap .vm-desc { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; color: #5F6B7A; font-size: 0.74rem; line-height: 1.25; }
#vm-heatmap td { text-align: center; vertical-align: middle; padding: 6px 2px; border-radius: 5px;
  height: 3.1rem; }
#vm-heatmap td .vm-mean { display: block; font-size: 1.05rem; font-weight: 700; line-height: 1.1; }
#vm-heatmap td .vm-n { display: block; font-size: 0.7rem; opacity: 0.85; }
#vm-heatmap td .vm-mark { font-size: 0.9rem; margin-left: 3px; }
#vm-heatmap td.vm-suppressed { background: #ECEEF1; color: #5F6B7A; font-size: 0.68rem;
  line-height: 1.2; font-style: italic;
  background-image: repeating-linear-gradient(135deg, transparent 0 6px, rgba(0,0,0,0.03) 6px 12px); }
#vm-heatmap td.vm-empty { background: #F7F8FA; color: #9AA3AF; }
#vm-heatmap .vm-gap { border-left: 3px solid #FFFFFF; }
#vm-legend { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px 36px;
  align-items: start; margin-top: 16px; padding: 12px 14px; background: #F7F8FA; border-radius: 8px;
  font-size: 0.8rem; line-height: 1.45; color: #394150;
  font-family: inherit; }
#vm-legend .vm-swatches { display: flex; flex-wrap: wrap; gap: 4px; }
#vm-legend .vm-swatch { padding: 4px 8px; border-radius: 4px; font-weight: 600; font-size: 0.74rem;
  white-space: nowrap; }
#vm-legend .vm-legend-title { font-weight: 700; color: #1F3A5F; margin-bottom: 4px; }
#vm-legend .vm-legend-line { margin: 0 0 2px; }
</style>
"""


def _bands(columns: list[Column]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for column in columns:
        if runs and runs[-1][0] == column.band:
            runs[-1] = (column.band, runs[-1][1] + 1)
        else:
            runs.append((column.band, 1))
    return runs


def _cell_html(data: HeatmapData, identifier: str, column: Column, first_of_band: bool) -> str:
    cell = data.cell(identifier, column)
    gap = " vm-gap" if first_of_band else ""
    attrs = (
        f'data-value-code="{escape(identifier)}" data-group-kind="{escape(column.group_kind)}" '
        f'data-group="{escape(column.group)}"'
    )
    tip = f"{identifier} · {column.label}"
    if cell is None:
        return f'<td class="vm-empty{gap}" {attrs} data-suppressed="false" title="{escape(tip)}">–</td>'
    if cell.suppressed:
        text = hidden_text(cell, data.relationship.min_group_size)
        return (
            f'<td class="vm-suppressed{gap}" {attrs} data-suppressed="true" '
            f'title="{escape(f"{tip}: {text}")}">{escape(text)}</td>'
        )
    if cell.mean is None:  # published but nobody gave a level
        return (
            f'<td class="vm-empty{gap}" {attrs} data-suppressed="false" data-n="{cell.n}" '
            f'title="{escape(f"{tip}: no levels given")}">no levels</td>'
        )
    level = nearest_level(cell.mean)
    background, foreground = level_colours(level)
    mark = _mark(cell.agreement)
    consensus = "" if cell.consensus is None else f", consensus {cell.consensus:.2f}"
    label = f" ({cell.agreement})" if cell.agreement else ""
    tooltip = f"{tip}: mean {cell.mean:.2f}, n={cell.n}{consensus}{label}"
    agreement = escape(cell.agreement or "")
    mark_html = f'<span class="vm-mark" aria-label="{agreement}">{mark}</span>' if mark else ""
    return (
        f'<td class="vm-cell{gap}" {attrs} data-suppressed="false" data-level="{level}" '
        f'data-mean="{cell.mean:.4f}" data-n="{cell.n}" data-agreement="{agreement}" '
        f'style="background:{background};color:{foreground}" title="{escape(tooltip)}">'
        f'<span class="vm-mean">{cell.mean:.1f}{mark_html}</span><span class="vm-n">n={cell.n}</span></td>'
    )


def heatmap_html(data: HeatmapData) -> str:
    """The heatmap as ``<table id="vm-heatmap">``: Value Codes by section × groups, with its legend."""
    columns = data.columns
    bands = _bands(columns)
    firsts: set[int] = set()
    position = 0
    for _, span in bands:
        firsts.add(position)
        position += span

    head = ['<colgroup><col class="vm-label-col">' + "<col>" * len(columns) + "</colgroup>", "<thead>"]
    head.append('<tr class="vm-bands"><th class="vm-corner" rowspan="2">Value Code</th>')
    head += [f'<th colspan="{span}" class="vm-gap">{escape(band)}</th>' for band, span in bands]
    head.append('</tr><tr class="vm-groups">')
    head += [
        f'<th class="{"vm-gap" if i in firsts else ""}" data-group-kind="{escape(c.group_kind)}" '
        f'data-group="{escape(c.group)}" title="{escape(c.label)}">{escape(c.short_label)}</th>'
        for i, c in enumerate(columns)
    ]
    head.append("</tr></thead>")

    body = ["<tbody>"]
    section = None
    for row in data.rows:
        if row.section != section:
            section = row.section
            span = len(columns) + 1
            body.append(f'<tr class="vm-section"><th colspan="{span}">{escape(section)}</th></tr>')
        body.append(f'<tr class="vm-row" data-value-code="{escape(row.identifier)}">')
        body.append(
            f'<th class="vm-code" scope="row" title="{escape(row.description)}">'
            f'<span class="vm-id">{escape(row.identifier)}</span>'
            f'<span class="vm-desc">{escape(row.description)}</span></th>'
        )
        body += [_cell_html(data, row.identifier, c, i in firsts) for i, c in enumerate(columns)]
        body.append("</tr>")
    body.append("</tbody>")

    table = (
        '<div id="vm-heatmap-wrap"><table id="vm-heatmap" '
        f'data-relationship="{escape(data.relationship.key)}" data-cycle="{data.cycle.number}">'
        f"{''.join(head)}{''.join(body)}</table></div>"
    )
    return HEATMAP_CSS + table + legend_html(data)


def legend_html(data: HeatmapData) -> str:
    rule = data.agreement
    swatches = "".join(
        f'<span class="vm-swatch" style="background:{level_colours(level)[0]};'
        f'color:{level_colours(level)[1]}">{level} · {escape(label)}</span>'
        for level, label in zip(LEVELS, data.level_labels, strict=True)
    )
    minimum = data.relationship.min_group_size
    return (
        '<div id="vm-legend">'
        f'<div><div class="vm-legend-title">Mean level (colour = nearest level)</div>'
        f'<div class="vm-swatches">{swatches}</div></div>'
        '<div><div class="vm-legend-title">Consensus (Tastle &amp; Wierman: 1 = everybody at one level)</div>'
        f'<div class="vm-legend-line">{AGREED_MARK} <b>agreed</b>: consensus ≥ '
        f"{rule.agreed_min_consensus:.2f}</div>"
        f'<div class="vm-legend-line">{DIVIDED_MARK} <b>divided</b>: consensus ≤ '
        f"{rule.divided_max_consensus:.2f}, with at least {rule.divided_min_end_share:.0%} of answers at "
        "levels 1–2 and at least as many at levels 4–5</div>"
        '<div class="vm-legend-line">no mark: neither</div></div>'
        '<div><div class="vm-legend-title">Anonymity</div>'
        f'<div class="vm-legend-line">Grey “fewer than {minimum} responses”: the group is too small to '
        "show; no numbers are shown.</div>"
        f'<div class="vm-legend-line">Grey “{WITHHELD_TEXT}”: the group is large enough, but its '
        "numbers, added to or subtracted from the others shown, would reveal a smaller group’s.</div>"
        '<div class="vm-legend-line">Mean over the levels given; n = respondents who gave a level.</div>'
        "</div></div>"
    )


# ---------------------------------------------------------------- one Value Code

CARDS_CSS = """
<style>
#vm-levels { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 10px;
  font-family: inherit; }
#vm-levels .vm-card { border-radius: 8px; border: 1px solid #E3E6EA; overflow: hidden; background: #FFFFFF; }
#vm-levels .vm-card.vm-current { box-shadow: 0 0 0 3px #1F3A5F; }
#vm-levels .vm-card-head { padding: 8px 12px; font-weight: 700; font-size: 0.9rem; }
#vm-levels .vm-card-head .vm-level { font-size: 1.4rem; margin-right: 6px; }
#vm-levels .vm-card-body { padding: 10px 12px 12px; font-size: 0.86rem; line-height: 1.4; color: #1F2328; }
#vm-levels .vm-here { display: block; font-size: 0.72rem; font-weight: 600; margin-top: 2px; }
#vm-things { display: flex; flex-wrap: wrap; gap: 6px; font-family: inherit; }
#vm-things span { background: #EEF2F7; color: #1F3A5F; border-radius: 999px; padding: 3px 12px;
  font-size: 0.84rem; font-weight: 600; }
</style>
"""


def level_cards_html(detail: ValueCodeDetail, overall_mean: float | None) -> str:
    """The five statements as cards in the level's colour; the level everybody's mean rounds to is ringed."""
    current_level = None if overall_mean is None else nearest_level(overall_mean)
    cards = []
    for statement in detail.levels:
        background, foreground = PALETTE.get(statement.colour, level_colours(statement.level))
        current = statement.level == current_level
        here = f'<span class="vm-here">All respondents: mean {overall_mean:.1f}</span>' if current else ""
        cards.append(
            f'<div class="vm-card{" vm-current" if current else ""}" data-level="{statement.level}">'
            f'<div class="vm-card-head" style="background:{background};color:{foreground}">'
            f'<span class="vm-level">{statement.level}</span>{escape(statement.label)}{here}</div>'
            f'<div class="vm-card-body">{escape(statement.statement)}</div></div>'
        )
    return CARDS_CSS + f'<div id="vm-levels">{"".join(cards)}</div>'


def things_html(things: list[str]) -> str:
    chips = "".join(f"<span>{escape(t)}</span>" for t in things)
    return CARDS_CSS + f'<div id="vm-things">{chips}</div>'


def distribution_figure(rows: list[tuple[str, Cell]], level_labels: list[str]) -> go.Figure:
    """Stacked horizontal bars: the share of each level per published group (first group on top)."""
    figure = go.Figure()
    labels = [label for label, _ in rows]
    for index, level in enumerate(LEVELS):
        shares = [100 * (c.levels[index] if c.levels else 0) / c.n if c.n else 0.0 for _, c in rows]
        counts = [c.levels[index] if c.levels else 0 for _, c in rows]
        background, foreground = level_colours(level)
        figure.add_trace(
            go.Bar(
                name=f"{level} · {level_labels[index]}",
                y=labels,
                x=shares,
                orientation="h",
                marker={"color": background, "line": {"color": "#FFFFFF", "width": 1}},
                text=[f"{s:.0f}%" if s >= 7 else "" for s in shares],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": foreground, "size": 12},
                customdata=counts,
                hovertemplate="%{y}<br>level " + str(level) + ": %{x:.0f}% (%{customdata})<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        height=max(220, 34 * len(rows) + 110),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"range": [0, 100], "ticksuffix": "%", "title": None, "gridcolor": "#E3E6EA"},
        yaxis={"autorange": "reversed", "title": None, "tickfont": {"size": 12, "color": "#1F2328"}},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.1,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
            "font": {"size": 12, "color": "#394150"},
        },
        plot_bgcolor="#FFFFFF",
        bargap=0.28,
    )
    return figure
