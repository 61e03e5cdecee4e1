"""What the pages draw that Streamlit has no element for: level cards, the chart, and the pieces the
heatmap table (``app/heatmap_table.py``) shares with them — the method's colours, hidden-cell texts,
agreement marks.

Builders return HTML strings or figures and never touch the store; every text that
comes from the store is escaped.
"""

from __future__ import annotations

import math
from html import escape

import plotly.graph_objects as go

from app.data import LEVEL_COLOURS, LEVELS, Cell, ValueCodeDetail, readable_text

#: The house ink, and white: text is one of them wherever it reaches a WCAG contrast of 4.5 : 1.
INK, WHITE = "#1F2328", "#FFFFFF"
#: The method's five colours, level 1 to 5.
_BACKGROUNDS = {
    "red": "#D64541",
    "amber": "#F0932B",
    "yellow": "#F6D55C",
    "lime": "#A8D46F",
    "green": "#2E9E5B",
}
#: The method's scale as colours a client can read: background, and the house ink or white when it
#: reaches a WCAG contrast of 4.5 : 1 on it (black otherwise), per colour name.
PALETTE = {name: (colour, readable_text(colour, (INK, WHITE))) for name, colour in _BACKGROUNDS.items()}
AGREED_MARK, DIVIDED_MARK = "●", "◐"


def level_colours(level: int) -> tuple[str, str]:
    """(background, text) hex colours of a level on the method's scale."""
    return PALETTE[LEVEL_COLOURS[level]]


def nearest_level(mean: float) -> int:
    """The level a mean rounds to (halves round up): the level shown beside it."""
    return min(max(math.floor(mean + 0.5), LEVELS[0]), LEVELS[-1])


#: What a hidden cell says instead of numbers, by its reason (read_scores' ``suppression``).
WITHHELD_TEXT = "withheld to protect a smaller group"


def hidden_text(cell: Cell, min_group_size: int) -> str:
    """What a suppressed cell says instead of numbers: its reason, never a count."""
    return suppression_text(cell.suppression, min_group_size)


def suppression_text(suppression: str | None, min_group_size: int) -> str:
    """What any hidden row (score, engagement, roll-up) says instead of numbers, by its reason."""
    if suppression == "complementary":
        # big enough itself, but showing it would let a smaller group's numbers be worked out
        return WITHHELD_TEXT
    if suppression == "held":
        return "held back with this cycle's newer data"
    if suppression == "value_code_hidden":
        return "a Value Code it pools is hidden for this group"
    return f"fewer than {min_group_size} responses"


def hidden_reason(cell: Cell, min_group_size: int) -> str:
    """Why a suppressed group is not shown, in a sentence."""
    text = hidden_text(cell, min_group_size)
    if cell.suppression == "complementary":
        return (
            f"{text}: its numbers, with the others shown, would reveal a group of fewer than {min_group_size}"
        )
    return text


def agreement_mark(agreement: str | None) -> str:
    """● for an agreed group, ◐ for a divided one, nothing otherwise."""
    return {"agreed": AGREED_MARK, "divided": DIVIDED_MARK}.get(agreement or "", "")


def agreement_label(agreement: str | None) -> str:
    """E.g. "◐ divided"; empty when the group is neither agreed nor divided."""
    return f"{agreement_mark(agreement)} {agreement}" if agreement else ""


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


def level_cards_html(detail: ValueCodeDetail, mean: float | None, group: str) -> str:
    """The five statements as cards in the level's colour; the level ``group``'s ``mean`` rounds to is ringed."""
    current_level = None if mean is None else nearest_level(mean)
    cards = []
    for statement in detail.levels:
        background, foreground = PALETTE.get(statement.colour, level_colours(statement.level))
        current = statement.level == current_level
        here = f'<span class="vm-here">{escape(group)}: mean {mean:.1f}</span>' if current else ""
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
