"""Colours of the review: a continuous scale through anchor colours, and text that stays readable on it.

A heatmap cell's colour is its mean level placed on a scale through the method's five colours
(red 1 … green 5), so that a 2.6 and a 3.4 look different instead of both being "yellow". The
scale interpolates in **OKLab**, a perceptual colour space: equal steps of the mean give steps of
colour that look about equal, and a mix of two colours does not pass through a muddy grey as a mix
of sRGB values does.

Text on a cell is chosen by the **WCAG 2 contrast ratio** against the interpolated background, never
below 4.5 : 1 (level AA for normal text).

Ottosson, B. (2020) "A perceptual color space for image processing", https://bottosson.github.io/posts/oklab/
(the matrices below are his). W3C (2018) *Web Content Accessibility Guidelines 2.1*, definitions of
"relative luminance" and "contrast ratio", and success criterion 1.4.3 (contrast, minimum).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

OKLab = tuple[float, float, float]

#: WCAG 2.1 success criterion 1.4.3: text needs a contrast ratio of at least 4.5 : 1.
MIN_TEXT_CONTRAST = 4.5
BLACK, WHITE = "#000000", "#FFFFFF"

_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _channels(colour: str) -> tuple[float, float, float]:
    if not _HEX.fullmatch(colour):
        raise ValueError(f"expected a colour as #RRGGBB, got {colour!r}")
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _to_linear(c: float) -> float:
    """sRGB's transfer function undone (IEC 61966-2-1), a channel in 0..1."""
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _from_linear(c: float) -> float:
    c = min(max(c, 0.0), 1.0)  # a mix can leave the sRGB gamut by a hair: clip it back
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in (r, g, b))


def to_oklab(colour: str) -> OKLab:
    """OKLab (L, a, b) of an sRGB colour ``#RRGGBB``: white is (1, 0, 0)."""
    r, g, b = (_to_linear(c) for c in _channels(colour))
    l_ = math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
    m_ = math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
    s_ = math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    return (
        0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
        1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
        0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_,
    )


def from_oklab(lab: OKLab) -> str:
    """The sRGB colour ``#RRGGBB`` of an OKLab (L, a, b), clipped to the sRGB gamut."""
    lightness, a, b = lab
    l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    return _hex(
        _from_linear(4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_),
        _from_linear(-1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_),
        _from_linear(-0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_),
    )


def oklab_distance(first: str, second: str) -> float:
    """Euclidean distance of two colours in OKLab (ΔE_OK; about 0.02 is a just-noticeable difference)."""
    return math.dist(to_oklab(first), to_oklab(second))


@dataclass(frozen=True)
class ColourScale:
    """A piecewise-linear scale in OKLab through ``stops``: (value, colour) with increasing values.

    ``scale(value)`` is the colour at ``value``; values outside the stops take the end colour.
    """

    stops: tuple[tuple[float, str], ...]

    def __post_init__(self) -> None:
        if len(self.stops) < 2:
            raise ValueError("a colour scale needs at least two stops")
        values = [value for value, _ in self.stops]
        if any(b <= a for a, b in pairwise(values)):
            raise ValueError(f"colour scale stops must increase, got {values}")
        for _, colour in self.stops:
            _channels(colour)

    @classmethod
    def through(cls, values: Sequence[float], colours: Sequence[str]) -> ColourScale:
        return cls(tuple(zip((float(v) for v in values), colours, strict=True)))

    @property
    def low(self) -> float:
        return self.stops[0][0]

    @property
    def high(self) -> float:
        return self.stops[-1][0]

    def __call__(self, value: float) -> str:
        if value <= self.low:
            return self.stops[0][1].upper()
        for (start, first), (end, second) in pairwise(self.stops):
            if value <= end:
                t = (value - start) / (end - start)
                a, b = to_oklab(first), to_oklab(second)
                return from_oklab(
                    (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2]))
                )
        return self.stops[-1][1].upper()

    def samples(self, count: int) -> list[tuple[float, str]]:
        """``count`` evenly spaced (fraction 0..1, colour) pairs, e.g. for a CSS gradient of the scale."""
        if count < 2:
            raise ValueError("a gradient needs at least two samples")
        return [
            (i / (count - 1), self(self.low + (self.high - self.low) * i / (count - 1))) for i in range(count)
        ]


# ---------------------------------------------------------------- contrast (WCAG 2.1)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance: 0.2126 R + 0.7152 G + 0.0722 B of the linearised channels (0 black, 1 white)."""
    r, g, b = (_to_linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio (L_lighter + 0.05) / (L_darker + 0.05), from 1 (same) to 21 (black on white)."""
    a, b = relative_luminance(first), relative_luminance(second)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def readable_text(background: str, preferred: Sequence[str] = (WHITE,)) -> str:
    """The text colour for ``background``: the ``preferred`` colour with the best contrast when it reaches
    4.5 : 1, otherwise black or white, whichever contrasts more.

    Black or white always reaches 4.5: their contrasts with a luminance L are (L + 0.05)/0.05 and
    1.05/(L + 0.05), which are equal at L + 0.05 = √0.0525, where both are 4.58; away from there one
    of them is larger.
    """
    best = max(preferred, key=lambda colour: contrast_ratio(colour, background), default=None)
    if best is not None and contrast_ratio(best, background) >= MIN_TEXT_CONTRAST:
        return best.upper()
    return max((BLACK, WHITE), key=lambda colour: contrast_ratio(colour, background))
