"""Colours of the review: OKLab and WCAG contrast against published values, and the heatmap's scales."""

from __future__ import annotations

import pytest

from app import components, heatmap_table
from vm_core.read.colour_scale import (
    BLACK,
    MIN_TEXT_CONTRAST,
    WHITE,
    ColourScale,
    contrast_ratio,
    from_oklab,
    oklab_distance,
    readable_text,
    relative_luminance,
    to_oklab,
)

#: A just-noticeable difference in OKLab is about 0.02 (Ottosson); "visibly different" here is 2.5 of them.
VISIBLY_DIFFERENT = 0.05


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        ("#FFFFFF", (1.0, 0.0, 0.0)),
        ("#000000", (0.0, 0.0, 0.0)),
        # Ottosson's table of sRGB primaries in OKLab
        ("#FF0000", (0.627955, 0.224863, 0.125846)),
        ("#00FF00", (0.866440, -0.233887, 0.179498)),
        ("#0000FF", (0.452014, -0.032457, -0.311528)),
    ],
)
def test_oklab_matches_the_published_values(colour: str, expected: tuple[float, float, float]) -> None:
    assert to_oklab(colour) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    "colour", ["#D64541", "#F0932B", "#F6D55C", "#A8D46F", "#2E9E5B", "#1F3A5F", "#777777"]
)
def test_oklab_round_trips(colour: str) -> None:
    assert from_oklab(to_oklab(colour)) == colour


def test_wcag_luminance_and_contrast_match_the_published_values() -> None:
    assert relative_luminance(WHITE) == pytest.approx(1.0)
    assert relative_luminance(BLACK) == 0.0
    assert contrast_ratio(BLACK, WHITE) == pytest.approx(21.0)
    assert contrast_ratio(WHITE, BLACK) == contrast_ratio(BLACK, WHITE)  # order does not matter
    # WebAIM's well-known example: #767676 on white is the lightest grey that passes AA, at 4.54 : 1
    assert contrast_ratio("#767676", WHITE) == pytest.approx(4.54, abs=0.005)
    assert contrast_ratio("#777777", WHITE) < MIN_TEXT_CONTRAST


def test_readable_text_prefers_the_house_colours_and_falls_back_to_black_or_white() -> None:
    ink = components.INK
    assert readable_text("#F6D55C", (ink, WHITE)) == ink  # yellow: the house ink
    assert readable_text("#1F3A5F", (ink, WHITE)) == WHITE  # navy: white
    # the method's red: white reaches only 4.2 and the ink 3.8, so black (4.8)
    assert contrast_ratio("#D64541", WHITE) < MIN_TEXT_CONTRAST
    assert contrast_ratio("#D64541", ink) < MIN_TEXT_CONTRAST
    assert readable_text("#D64541", (ink, WHITE)) == BLACK
    # the hardest background for black-or-white still passes: both give 4.58 at L + 0.05 = √0.0525
    assert contrast_ratio(readable_text("#777777"), "#777777") >= MIN_TEXT_CONTRAST


def test_a_scale_interpolates_in_oklab_between_its_stops() -> None:
    scale = ColourScale.through([1, 3], ["#D64541", "#2E9E5B"])
    assert scale(1) == "#D64541"
    assert scale(3) == "#2E9E5B"
    assert scale(0) == scale(1)  # values outside the stops take the end colours
    assert scale(9) == scale(3)
    halfway = [(a + b) / 2 for a, b in zip(to_oklab("#D64541"), to_oklab("#2E9E5B"), strict=True)]
    assert to_oklab(scale(2)) == pytest.approx(halfway, abs=0.004)  # up to rounding to 8-bit channels
    fractions = [fraction for fraction, _ in scale.samples(5)]
    assert fractions == [0.0, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize(
    ("values", "colours", "message"),
    [
        ([1], ["#FFFFFF"], "at least two stops"),
        ([2, 1], ["#FFFFFF", "#000000"], "must increase"),
        ([1, 2], ["#FFF", "#000000"], "expected a colour as #RRGGBB"),
    ],
)
def test_a_bad_scale_is_refused_in_one_line(values: list[float], colours: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ColourScale.through(values, colours)


# ---------------------------------------------------------------- the heatmap's scales


def test_the_level_scale_is_anchored_on_the_methods_five_colours() -> None:
    for level in (1, 2, 3, 4, 5):
        assert heatmap_table.LEVEL_SCALE(level) == components.level_colours(level)[0]


def test_means_either_side_of_a_level_get_visibly_different_colours() -> None:
    """The issue's complaint: 2.6 and 3.4 were the same yellow."""
    scale = heatmap_table.LEVEL_SCALE
    assert components.nearest_level(2.6) == components.nearest_level(3.4) == 3
    assert oklab_distance(scale(2.6), scale(3.4)) > VISIBLY_DIFFERENT
    assert oklab_distance(scale(2.6), scale(3.0)) > VISIBLY_DIFFERENT / 2
    assert oklab_distance(scale(3.0), scale(3.4)) > VISIBLY_DIFFERENT / 2


@pytest.mark.parametrize(
    ("scale", "low", "high"),
    [
        (heatmap_table.LEVEL_SCALE, 1.0, 5.0),
        (heatmap_table.CHANGE_SCALE, -1.5, 1.5),
        (heatmap_table.GAP_SCALE, -1.5, 1.5),
    ],
)
def test_cell_text_reaches_wcag_aa_everywhere_on_each_scale(
    scale: ColourScale, low: float, high: float
) -> None:
    steps = 400
    for i in range(steps + 1):
        background = scale(low + (high - low) * i / steps)
        text = readable_text(background, (components.INK, WHITE))
        assert contrast_ratio(text, background) >= MIN_TEXT_CONTRAST, (background, text)


@pytest.mark.parametrize("theme", sorted(heatmap_table.THEMES))
def test_every_text_colour_of_each_theme_is_readable_on_its_backgrounds(theme: str) -> None:
    colours = heatmap_table.THEMES[theme]
    for text, backgrounds in heatmap_table.TEXT_ON.items():
        for background in backgrounds:
            ratio = contrast_ratio(colours[text], colours[background])
            assert ratio >= MIN_TEXT_CONTRAST, f"{theme}: {text} on {background} is {ratio:.2f} : 1"


def test_the_level_cards_text_is_readable_on_the_methods_colours() -> None:
    for background, text in components.PALETTE.values():
        assert contrast_ratio(text, background) >= MIN_TEXT_CONTRAST
