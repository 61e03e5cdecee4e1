"""The heatmap as HTML: a table of Value Codes × groups drawn from a :class:`~app.data.HeatmapView`.

Each cell is a link to that Value Code's page for that group. Colours: a level cell sits on a
continuous scale through the method's five colours (OKLab, ``app.data.ColourScale``), so a 2.6 and
a 3.4 differ; a difference sits on a diverging scale. Text on every coloured cell is black, the
house ink or white, whichever reaches a WCAG contrast of 4.5 : 1. Headings and the first column
stay in view while the table scrolls; the stylesheet (``styles/heatmap.css``) also lays the table
out on A4 landscape for print and follows a dark colour scheme. Every text from the store is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from app import components
from app.address import value_code_link
from app.data import LEVELS, CellDelta, ColourScale, HeatmapData, HeatmapView, ViewCell, readable_text

STYLESHEET = Path(__file__).resolve().parent / "styles" / "heatmap.css"
#: Widths (rem) of the Value Code column and of the narrowest a cell may get on screen.
LABEL_COLUMN_REM, CELL_MIN_REM = 13.5, 4.3  # 4.3rem: "management" fits on a heading line

#: Mean level 1..5 through the method's colours (red … green).
LEVEL_SCALE = ColourScale.through(LEVELS, [components.level_colours(level)[0] for level in LEVELS])
#: A difference in levels, full colour from one level either way.
DIFFERENCE_RANGE = 1.0
NEUTRAL = "#EEEEEA"  # no difference; also the light theme's neutral cell
#: Changes: a decline red, an improvement green — the ends of the method's scale.
CHANGE_SCALE = ColourScale.through(
    (-DIFFERENCE_RANGE, 0, DIFFERENCE_RANGE),
    (components.level_colours(1)[0], NEUTRAL, components.level_colours(5)[0]),
)
#: Gaps: neither party is "better", so orange (first party higher) and blue (second party higher).
GAP_SCALE = ColourScale.through((-DIFFERENCE_RANGE, 0, DIFFERENCE_RANGE), ("#C8692B", NEUTRAL, "#3E6FB0"))

#: A comparison's verdict beside its difference, so it does not rest on colour alone.
VERDICT_MARKS = {"higher": "▲", "lower": "▼", "no detectable difference": "≈", "insufficient evidence": "?"}

#: Colours around the cells, per theme: light, and dark (prefers-color-scheme or Streamlit's dark theme).
THEMES: dict[str, dict[str, str]] = {
    "light": {
        "page": "#FFFFFF",
        "ink": components.INK,
        "muted": "#5A6472",
        "accent": "#1F3A5F",
        "head-bg": "#EEF0F3",
        "head-ink": "#2F3643",
        "band-bg": "#1F3A5F",
        "band-ink": "#FFFFFF",
        "hidden-bg": "#ECEEF1",
        "hidden-ink": "#4F5A68",
        "hatch": "rgba(0, 0, 0, 0.04)",
        "empty-bg": "#F5F6F8",
        "empty-ink": "#5A6472",
        "neutral-bg": NEUTRAL,
        "legend-bg": "#F5F6F8",
    },
    "dark": {
        "page": "#171614",
        "ink": "#ECEDEF",
        "muted": "#AEB4BD",
        "accent": "#9DBBE3",
        "head-bg": "#2A2C31",
        "head-ink": "#E1E4E8",
        "band-bg": "#34507A",
        "band-ink": "#FFFFFF",
        "hidden-bg": "#2C2E33",
        "hidden-ink": "#B9BEC6",
        "hatch": "rgba(255, 255, 255, 0.05)",
        "empty-bg": "#222428",
        "empty-ink": "#AEB4BD",
        "neutral-bg": "#33353A",
        "legend-bg": "#222428",
    },
}

#: Every text colour of a theme and the backgrounds it is drawn on (tests check each pair's contrast).
TEXT_ON = {
    "ink": ("page", "legend-bg", "neutral-bg"),
    "muted": ("page", "legend-bg", "empty-bg"),
    "accent": ("page", "legend-bg"),
    "head-ink": ("head-bg",),
    "band-ink": ("band-bg",),
    "hidden-ink": ("hidden-bg",),
    "empty-ink": ("empty-bg",),
}


def _variables(theme: str) -> str:
    return "; ".join(f"--vm-{name}: {value}" for name, value in THEMES[theme].items())


def stylesheet() -> str:
    """The CSS: theme variables (light; dark by the computer's colour scheme or by class), then the rules."""
    return (
        "<style>"
        f".vm-scope {{ {_variables('light')} }}\n"
        f"@media (prefers-color-scheme: dark) {{ .vm-scope.vm-theme-auto {{ {_variables('dark')} }} }}\n"
        f".vm-scope.vm-theme-dark {{ {_variables('dark')} }}\n"
        f"{STYLESHEET.read_text(encoding='utf-8')}</style>"
    )


def theme_class(streamlit_theme: str | None) -> str:
    """``vm-theme-dark`` when Streamlit reports its dark theme; otherwise follow the computer's scheme.

    Streamlit may report "light" on a session's first run before it knows, so only "dark" is trusted.
    """
    return "vm-theme-dark" if streamlit_theme == "dark" else "vm-theme-auto"


# ---------------------------------------------------------------- cells


def _signed(delta: float) -> str:
    """+0.9, −0.4 (a real minus sign), ±0.0 for what rounds to zero."""
    if round(delta, 1) == 0:
        return "±0.0"
    return f"{delta:+.1f}".replace("-", "−")


def _coloured(background: str) -> str:
    return (
        f"background-color:{background};color:{readable_text(background, (components.INK, components.WHITE))}"
    )


def _td(classes: str, attributes: str, title: str, style: str, inner: str, link: str) -> str:
    styled = f' style="{style}"' if style else ""
    return (
        f'<td class="{classes}" {attributes}{styled} title="{escape(title)}">'
        f'<a class="vm-go" href="{escape(link)}">{inner}</a></td>'
    )


def _level_td(
    data: HeatmapData, identifier: str, view_cell: ViewCell, classes: str, attrs: str, link: str
) -> str:
    cell, column = view_cell.level, view_cell.column
    tip = f"{identifier} · {column.label}"
    if cell is None:
        return _td(
            f"vm-empty{classes}", f'{attrs} data-suppressed="false"', f"{tip}: no score", "", "–", link
        )
    if cell.suppressed:
        text = components.hidden_text(cell, data.relationship.min_group_size)
        return _td(
            f"vm-suppressed{classes}",
            f'{attrs} data-suppressed="true"',
            f"{tip}: {text}",
            "",
            escape(text),
            link,
        )
    if cell.mean is None:  # published, but nobody gave a level
        attributes = f'{attrs} data-suppressed="false" data-n="{cell.n}"'
        return _td(f"vm-empty{classes}", attributes, f"{tip}: no levels given", "", "no levels", link)
    level = components.nearest_level(cell.mean)
    name = data.level_labels[level - 1]
    agreement = escape(cell.agreement or "")
    consensus = "" if cell.consensus is None else f", consensus {cell.consensus:.2f}"
    label = f" ({cell.agreement})" if cell.agreement else ""
    title = f"{tip}: mean {cell.mean:.2f}, nearest level {level} · {name}, n={cell.n}{consensus}{label}"
    mark = components.agreement_mark(cell.agreement)
    mark_html = f'<span class="vm-mark" aria-label="{agreement}">{mark}</span>' if mark else ""
    attributes = (
        f'{attrs} data-suppressed="false" data-level="{level}" data-mean="{cell.mean:.4f}" '
        f'data-n="{cell.n}" data-agreement="{agreement}"'
    )
    inner = f'<span class="vm-mean">{cell.mean:.1f}{mark_html}</span><span class="vm-sub">L{level} · n={cell.n}</span>'
    if view_cell.muted:
        return _td(f"vm-muted{classes}", attributes, title, "", inner, link)
    return _td(f"vm-cell{classes}", attributes, title, _coloured(LEVEL_SCALE(cell.mean)), inner, link)


def _difference_td(change: CellDelta, tip: str, polar: bool, classes: str, attrs: str, link: str) -> str:
    attributes = f'{attrs} data-status="{change.status}"'
    if change.status == "hidden":
        return _td(
            f"vm-suppressed{classes}",
            f'{attributes} data-suppressed="true"',
            f"{tip}: {change.detail}",
            "",
            "hidden",
            link,
        )
    texts = {"absent": "–", "not_comparable": "reworded", "no_level": "no levels"}
    if change.status != "compared" or change.delta is None:
        return _td(
            f"vm-empty{classes}",
            f'{attributes} data-suppressed="false"',
            f"{tip}: {change.detail}",
            "",
            texts.get(change.status, "–"),
            link,
        )
    verdict = f"; {change.verdict}" if change.verdict else ""
    title = f"{tip}: {_signed(change.delta)} levels ({change.detail}){verdict}"
    attributes += f' data-suppressed="false" data-delta="{change.delta:.4f}"'
    if change.verdict:
        attributes += f' data-verdict="{escape(change.verdict)}"'
    # a difference the test could not establish is drawn on the theme's neutral colour, whatever its size
    settled = change.verdict in (None, "higher", "lower")
    scale = CHANGE_SCALE if polar else GAP_SCALE
    classes = f"vm-cell{classes}" if settled else f"vm-cell vm-neutral{classes}"
    style = _coloured(scale(change.delta)) if settled else ""
    mark = VERDICT_MARKS.get(change.verdict or "", "")
    mark_html = (
        f'<span class="vm-mark" aria-label="{escape(change.verdict or "")}">{mark}</span>' if mark else ""
    )
    # a change goes from one cycle to the next; a gap sets two parties side by side
    joiner = " → " if polar else " vs "
    inner = (
        f'<span class="vm-mean">{_signed(change.delta)}{mark_html}</span>'
        f'<span class="vm-sub">{change.reference:.1f}{joiner}{change.current:.1f}</span>'
    )
    return _td(classes, attributes, title, style, inner, link)


def _cell_html(
    data: HeatmapData, view: HeatmapView, identifier: str, view_cell: ViewCell, first_of_band: bool
) -> str:
    column = view_cell.column
    classes = " vm-gap" if first_of_band else ""
    attrs = (
        f'data-value-code="{escape(identifier)}" data-group-kind="{escape(column.group_kind)}" '
        f'data-group="{escape(column.group)}"'
    )
    link = value_code_link(data.relationship.key, data.cycle.number, identifier, column.group)
    if view_cell.change is None:
        return _level_td(data, identifier, view_cell, classes, attrs, link)
    return _difference_td(
        view_cell.change, f"{identifier} · {column.label}", view.polar, classes, attrs, link
    )


# ---------------------------------------------------------------- the table


def _bands(view: HeatmapView) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for column in view.columns:
        if runs and runs[-1][0] == column.band:
            runs[-1] = (column.band, runs[-1][1] + 1)
        else:
            runs.append((column.band, 1))
    return runs


def heatmap_html(data: HeatmapData, view: HeatmapView, theme: str = "vm-theme-auto") -> str:
    """The heatmap as ``<table id="vm-heatmap">`` in its scrolling frame, with the legend and stylesheet."""
    bands = _bands(view)
    firsts: set[int] = set()
    position = 0
    for _, span in bands:
        firsts.add(position)
        position += span

    label_col = f'<col class="vm-label-col" style="width:{LABEL_COLUMN_REM}rem">'
    head = [f"<colgroup>{label_col}{'<col>' * len(view.columns)}</colgroup>", "<thead>"]
    head.append('<tr class="vm-bands"><th class="vm-corner" rowspan="2">Value Code</th>')
    head += [f'<th colspan="{span}" class="vm-gap">{escape(band)}</th>' for band, span in bands]
    head.append('</tr><tr class="vm-groups">')
    for i, c in enumerate(view.columns):
        classes = " ".join(
            name
            for name, on in (
                ("vm-gap", i in firsts),
                ("vm-sorted", c == view.sort_column and not view.by_section),
            )
            if on
        )
        head.append(
            f'<th class="{classes}" data-group-kind="{escape(c.group_kind)}" '
            f'data-group="{escape(c.group)}" title="{escape(c.label)}">{escape(c.short_label)}</th>'
        )
    head.append("</tr></thead>")

    body = ["<tbody>"]
    section = None
    for view_row in view.rows:
        row = view_row.row
        if view.by_section and row.section != section:
            section = row.section
            body.append(
                f'<tr class="vm-section"><th colspan="{len(view.columns) + 1}"><span>{escape(section)}</span></th></tr>'
            )
        body.append(f'<tr class="vm-row" data-value-code="{escape(row.identifier)}">')
        body.append(
            f'<th class="vm-code" scope="row" title="{escape(row.section)}: {escape(row.description)}">'
            f'<span class="vm-id">{escape(row.identifier)}</span>'
            f'<span class="vm-desc">{escape(row.description)}</span></th>'
        )
        body += [_cell_html(data, view, row.identifier, c, i in firsts) for i, c in enumerate(view_row.cells)]
        body.append("</tr>")
    body.append("</tbody>")

    # below this width the frame scrolls sideways (first column and headings stay) rather than squeeze cells
    min_width = f"calc({LABEL_COLUMN_REM}rem + {len(view.columns)} * {CELL_MIN_REM}rem)"
    table = (
        f'<div class="vm-scope {theme}" lang="en"><div id="vm-heatmap-wrap"><table id="vm-heatmap" '
        f'style="min-width:{min_width}" data-relationship="{escape(data.relationship.key)}" '
        f'data-cycle="{data.cycle.number}" data-mode="{escape(view.state.mode)}" data-sort="{escape(view.state.sort)}">'
        f"{''.join(head)}{''.join(body)}</table></div>{legend_html(data, view)}</div>"
    )
    return stylesheet() + table


# ---------------------------------------------------------------- legend


def _scale_html(scale: ColourScale, ticks: list[str]) -> str:
    """A gradient bar of ``scale`` with ``ticks`` spread evenly from its low end to its high end."""
    stops = ", ".join(f"{colour} {fraction:.0%}" for fraction, colour in scale.samples(17))
    last = len(ticks) - 1
    spans = "".join(
        f'<span class="{"vm-first" if i == 0 else "vm-last" if i == last else ""}" '
        f'style="left:{100 * i / last:.0f}%">{escape(tick)}</span>'
        for i, tick in enumerate(ticks)
    )
    return (
        f'<div class="vm-bar" style="background:linear-gradient(to right, {stops})"></div>'
        f'<div class="vm-ticks">{spans}</div>'
    )


def _colour_legend(data: HeatmapData, view: HeatmapView) -> str:
    if view.state.mode == "level":
        ticks = [f"{level} · {label}" for level, label in zip(LEVELS, data.level_labels, strict=True)]
        return (
            '<div class="vm-legend-title">Mean level: a continuous scale through the five levels</div>'
            + _scale_html(LEVEL_SCALE, ticks)
            + '<div class="vm-legend-line">In each cell: the mean, its nearest level (L1–L5) and n, '
            "the respondents who gave a level.</div>"
        )
    if view.polar:
        ticks, scale = ["declined a level or more", "no change", "improved a level or more"], CHANGE_SCALE
    else:
        parties = [c.short_label for c in data.columns if c.group_kind == "party"]
        ticks, scale = [f"{parties[0]} a level higher", "same", f"{parties[-1]} a level higher"], GAP_SCALE
    marks = VERDICT_MARKS
    return (
        f'<div class="vm-legend-title">{escape(view.title)}</div>'
        + _scale_html(scale, ticks)
        + '<div class="vm-legend-line">In each cell: the difference of the two published means, and the '
        "means. Only groups shown on both sides are compared.</div>"
        '<div class="vm-legend-line">Coloured only where the ordinal test finds a difference (probability of '
        "superiority and Brunner–Munzel, Benjamini–Hochberg across this heatmap, at least 10 answers a side; "
        f"docs/statistics.md): {marks['higher']} higher, {marks['lower']} lower. "
        f"{marks['no detectable difference']} no detectable difference and {marks['insufficient evidence']} "
        "too little evidence to tell stay neutral.</div>"
    )


def legend_html(data: HeatmapData, view: HeatmapView) -> str:
    rule = data.agreement
    minimum = data.relationship.min_group_size
    return (
        f'<div id="vm-legend"><div class="vm-legend-scale">{_colour_legend(data, view)}</div>'
        '<div><div class="vm-legend-title">Consensus (Tastle &amp; Wierman: 1 = everybody at one level)</div>'
        f'<div class="vm-legend-line">{components.AGREED_MARK} <b>agreed</b>: consensus ≥ '
        f"{rule.agreed_min_consensus:.2f}</div>"
        f'<div class="vm-legend-line">{components.DIVIDED_MARK} <b>divided</b>: consensus ≤ '
        f"{rule.divided_max_consensus:.2f}, with at least {rule.divided_min_end_share:.0%} of answers at "
        "levels 1–2 and at least as many at levels 4–5</div>"
        '<div class="vm-legend-line">no mark: neither</div></div>'
        '<div><div class="vm-legend-title">Anonymity</div>'
        f'<div class="vm-legend-line">Grey “fewer than {minimum} responses”: the group is too small to '
        "show; no numbers are shown.</div>"
        f'<div class="vm-legend-line">Grey “{components.WITHHELD_TEXT}”: the group is large enough, but its '
        "numbers, added to or subtracted from the others shown, would reveal a smaller group’s.</div>"
        '<div class="vm-legend-line">Grey “hidden” (comparisons): a group compared is not shown, so nothing '
        "is compared.</div>"
        "</div></div>"
    )
