"""The pictures' palette per terminal: colors each terminal shows as meant, classes and series
told apart with any kind of color blindness, and by glyph where color is gone."""

from __future__ import annotations

import colorsys
from itertools import combinations

import pytest
from rich.color import Color, ColorSystem

from tui_trainer.app.palette import (
    EIGHT_BIT, HUE_TOLERANCE, MODES, NONE, STANDARD, STRONG_STEP, TRUECOLOR, Palette, ansi, xterm_colors,
)
from tui_trainer.pictures import CLASS_COLORS, SHADE_STEPS

#: Machado, Oliveira and Fernandes (2009): how people with protanopia, deuteranopia and tritanopia
#: see an RGB color (full severity).
COLOR_BLINDNESS = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
DARK = (30, 30, 30)  # a dark theme's background


def seen(color, matrix):
    return tuple(max(0.0, min(255.0, sum(m * c for m, c in zip(row, color)))) for row in matrix)


def distance(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


def hue(color) -> float:
    return colorsys.rgb_to_hls(*(v / 255 for v in color))[0] * 360


@pytest.mark.parametrize("kind", sorted(COLOR_BLINDNESS))
def test_the_first_classes_and_series_stay_apart_for_color_blind_eyes(kind):
    matrix = COLOR_BLINDNESS[kind]
    palette = Palette.of(TRUECOLOR)
    for colors in (CLASS_COLORS[:4], [palette.series(i).color for i in range(4)]):
        assert min(distance(seen(a, matrix), seen(b, matrix)) for a, b in combinations(colors, 2)) > 40


def test_256_colors_are_the_terminals_own_and_keep_their_class_hue():
    palette = Palette.of(EIGHT_BIT)
    shown = set(xterm_colors())
    for color in shown:  # Rich shows each of them as itself
        assert tuple(Color.from_rgb(*color).downgrade(ColorSystem.EIGHT_BIT).get_truecolor()) == color
    for label, base in enumerate(CLASS_COLORS[:7]):
        for step in range(SHADE_STEPS + 1):
            cell = palette.cell(label, step, DARK)
            assert cell in shown
            gray = len(set(cell)) == 1
            assert not (gray and step >= STRONG_STEP), (label, step)  # a likely class keeps its color
            if not gray:  # never another hue (a faint orange turned maroon, a faint blue navy)
                assert min(abs(hue(cell) - hue(base)), 360 - abs(hue(cell) - hue(base))) <= HUE_TOLERANCE
        assert palette.sample(label) in shown and len(set(palette.sample(label))) > 1
    assert all(palette.series(i).color in shown for i in range(8))


def test_16_colors_are_ansi_colors_and_each_class_has_its_glyphs():
    palette = Palette.of(STANDARD)
    ansi_colors = {ansi(name) for name in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
                                           "bright_black", "bright_red", "bright_green", "bright_yellow",
                                           "bright_blue", "bright_magenta", "bright_cyan", "bright_white")}
    for label in range(8):
        assert palette.sample_mark(label).color in ansi_colors
        assert palette.region_mark(label, SHADE_STEPS).color in ansi_colors
    assert len({palette.series(i).color for i in range(8)}) == 8 <= len(ansi_colors)


@pytest.mark.parametrize("mode", MODES)
def test_classes_and_series_are_told_apart_and_legends_show_what_is_drawn(mode):
    palette = Palette.of(mode)
    swatches = [palette.class_swatch(label) for label in range(8)]
    assert len(set(swatches)) == 8
    series = [palette.series(i) for i in range(8)]
    assert len({(s.color, s.marker) for s in series}) == 8
    if palette.glyphs:  # the legend's swatch is the sample's shape and the region's mark, in the sample's color
        for label, (swatch, color) in enumerate(swatches):
            mark = palette.sample_mark(label)
            assert swatch[0] == mark.glyph and swatch[1] == palette.region_mark(label, SHADE_STEPS).glyph
            assert color == mark.color
        assert len({palette.sample_mark(label).glyph for label in range(8)}) == 8
        assert palette.sample_mark(0).glyph != palette.sample_mark(0, validation=True).glyph
        assert palette.region_mark(0, 0) is None  # a toss-up between classes stays blank
    else:
        assert [color for _, color in swatches] == [palette.sample(label) for label in range(8)]
    if mode == NONE:  # no color: one gray, a marker per series, the swatch drawn with it
        assert len({s.color for s in series}) == 1 and len({s.marker for s in series}) == 8
        assert all(s.swatch == s.marker * 2 for s in series if s.marker != "braille")
