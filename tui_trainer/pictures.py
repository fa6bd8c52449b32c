"""The colors of a run's pictures, shared by the app's live views and ``export-plot``: one color
per class, and a boundary cell's shade, stronger as the predicted class is more probable (as
TensorFlow Playground shades its plane); a neuron's value and a link's weight from orange
(negative) through a pale gray (zero) to blue (positive), as the playground draws its network."""

from __future__ import annotations

RGB = tuple[int, int, int]

#: Class colors in class order, cycled for more: the Okabe-Ito colors, which people with any kind
#: of color blindness tell apart (orange and sky blue first, as TensorFlow Playground's orange and
#: blue; then bluish green, reddish purple, yellow, vermillion, blue, and a gray).
CLASS_COLORS: tuple[RGB, ...] = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (204, 121, 167),
                                 (240, 228, 66), (213, 94, 0), (0, 114, 178), (150, 150, 150))
#: Where the output is not finite, the cell is this gray.
UNKNOWN: RGB = (110, 110, 110)
#: A cell's share of its class color: from FAINTEST (a coin toss between the classes) up to
#: STRONGEST (certain), so the samples drawn at full color stand out on any cell.
FAINTEST, STRONGEST = 0.06, 0.45
#: A cell's shade, in steps from 0 (every class equally likely) to SHADE_STEPS (certain), so a
#: picture uses few distinct colors (``engine.views.shade_steps`` counts them).
SHADE_STEPS = 12


def class_color(label: int) -> RGB:
    """The color of class ``label``."""
    return CLASS_COLORS[label % len(CLASS_COLORS)] if label >= 0 else UNKNOWN


def blend(base: RGB, color: RGB, share: float) -> RGB:
    """``base`` moved ``share`` of the way to ``color``."""
    return tuple(round(b + (c - b) * share) for b, c in zip(base, color))  # type: ignore[return-value]


def cell_color(label: int, step: int, base: RGB) -> RGB:
    """A boundary cell's color over ``base``: its class color at the share its ``step`` (from
    ``views.shade_steps``) gives."""
    if label < 0:
        return UNKNOWN
    return blend(base, class_color(label), FAINTEST + (STRONGEST - FAINTEST) * step / SHADE_STEPS)


def sample_color(label: int) -> RGB:
    """A training sample's color: its class color, a little brighter than any cell of its class."""
    return blend(class_color(label), (255, 255, 255), 0.15)


def validation_color(label: int) -> RGB:
    """A validation sample's color: its class color, paler than a training sample's."""
    return blend(class_color(label), (255, 255, 255), 0.6)


#: A neuron's picture and the links: negative values orange, positive blue, zero pale gray.
NEGATIVE: RGB = (245, 147, 34)
POSITIVE: RGB = (8, 119, 189)
ZERO: RGB = (232, 234, 235)


def signed_color(fraction: float, zero: RGB = ZERO) -> RGB:
    """The color of a value at ``fraction`` of its scale (-1 to 1, clipped; not finite: the
    UNKNOWN gray): ``zero`` moved toward blue (positive) or orange (negative)."""
    if fraction != fraction or fraction in (float("inf"), float("-inf")):
        return UNKNOWN
    return blend(zero, POSITIVE if fraction > 0 else NEGATIVE, min(1.0, abs(fraction)))
