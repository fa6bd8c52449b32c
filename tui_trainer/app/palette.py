"""The colors of the app's pictures in the terminal it runs in, and the glyphs that tell classes,
samples and series apart where color is gone.

Textual draws in the colors the terminal has: 24-bit (``COLORTERM=truecolor``), 256 colors
(``TERM=xterm-256color``, tmux), 16 (``TERM=xterm``, ``screen``) or none (``NO_COLOR``: Textual's
Monochrome filter turns every color into a gray of its lightness). Rich turns a 24-bit color into
the nearest color the terminal has, which for the faint shades of a picture is often another hue
(a faint orange became maroon, a faint blue navy). So each mode has its own palette, of colors
the terminal shows as they are meant (entries of its own palette, never a guess):

- truecolor: the Okabe-Ito colors (told apart by people with any kind of color blindness);
- 256 colors: the same colors, and every shade, snapped to the xterm palette without changing
  hue (a shade too faint to keep its hue becomes a gray);
- 16 colors: the ANSI colors; a picture draws glyphs on the terminal's background (a mark per
  class and a shape per sample), since 16 colors cannot shade;
- none: grays, with the glyphs of the 16 colors, and each chart series its own marker.

A legend always shows what its picture draws: the swatch of a series is its marker in its color.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import cache
from typing import Any

from rich.color import Color, ColorSystem

from tui_trainer.pictures import CLASS_COLORS, SHADE_STEPS, RGB, blend, cell_color, sample_color, validation_color

TRUECOLOR, EIGHT_BIT, STANDARD, NONE = "truecolor", "256", "16", "none"
MODES = (TRUECOLOR, EIGHT_BIT, STANDARD, NONE)

#: The charts' series colors, in order (the Okabe-Ito colors: sky blue, orange, bluish green,
#: reddish purple, yellow, vermillion, blue, and a gray).
SERIES_COLORS: tuple[RGB, ...] = ((86, 180, 233), (230, 159, 0), (0, 158, 115), (204, 121, 167),
                                  (240, 228, 66), (213, 94, 0), (0, 114, 178), (160, 160, 160))

#: The 16 ANSI colors as Rich matches them (its standard palette), by index: a color given as
#: one of these is shown as that ANSI color, the terminal's own rendition of it.
ANSI = {name: index for index, name in enumerate((
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white", "bright_black", "bright_red",
    "bright_green", "bright_yellow", "bright_blue", "bright_magenta", "bright_cyan", "bright_white"))}


def ansi(name: str) -> RGB:
    """The color Rich shows as the ANSI color ``name`` (``bright_cyan``) on a 16-color terminal."""
    from tui_trainer.fences.rich import standard_palette

    return tuple(standard_palette()[ANSI[name]])  # type: ignore[return-value]


#: 16 colors: the series (as SERIES_COLORS), the classes' samples, and their regions' marks.
ANSI_SERIES = ("bright_cyan", "bright_yellow", "bright_green", "bright_magenta", "yellow", "bright_red",
               "bright_blue", "white")
ANSI_CLASSES = ("bright_yellow", "bright_cyan", "bright_green", "bright_magenta", "bright_red",
                "bright_blue", "bright_white", "white")
ANSI_REGIONS = ("yellow", "cyan", "green", "magenta", "red", "blue", "white", "bright_black")

#: No color: the grays things are drawn in (Textual would turn any color into a gray anyway).
GRAY_SERIES: RGB = (215, 215, 215)
GRAY_SAMPLE: RGB = (245, 245, 245)
GRAY_VALIDATION: RGB = (175, 175, 175)
GRAY_REGION: RGB = (150, 150, 150)
GRAY_FAINT: RGB = (95, 95, 95)

#: Where a picture is drawn in glyphs (16 colors, no color): each class's sample (filled for a
#: training sample, hollow for a validation one) and the mark that fills its region.
SAMPLE_GLYPHS = ("●", "▲", "■", "◆", "✚", "✖", "▼", "★")
HOLLOW_GLYPHS = ("○", "△", "□", "◇", "+", "×", "▽", "☆")
REGION_GLYPHS = ("·", "/", "\\", "-", "|", ":", "=", "~")
#: A region is marked in its class's color from this shade step on (more probable than not);
#: below, down to step 1, in a faint gray; at step 0 (a toss-up) it is left blank.
STRONG_STEP = SHADE_STEPS // 2
#: Where the arena is drawn in glyphs: the function's heights, from the lowest (blank) up, and
#: its known minima; each run's path in its series' glyph (its point now: the glyph reversed).
HEAT_GLYPHS = (" ", "·", ":", "░", "▒")
MINIMUM_GLYPH = "★"
PATH_GLYPHS = ("•", "+", "×", "o", "*", "#", "=", "~")
#: No color: each chart series' marker (plotext's ``braille`` line, then characters), and the
#: legend's swatch of each.
GRAY_MARKERS = ("braille", "•", "+", "×", "o", "*", "#", "=")
BRAILLE_SWATCH = "⠒⠒"
#: A smoothed series' raw line, drawn under it: its color moved this far toward the chart's
#: background (16 colors: the ANSI gray; no color: a darker gray, in the series' own marker).
FAINT = 0.6


@dataclass(frozen=True)
class Series:
    """How one chart series is drawn: its color, its plotext marker and its legend swatch."""

    color: RGB
    marker: str
    swatch: str


@dataclass(frozen=True)
class Mark:
    """One cell of a picture drawn in glyphs: the character, its color and whether it is bold."""

    glyph: str
    color: RGB
    bold: bool = False
    reverse: bool = False


def color_mode(app: Any) -> str:
    """The colors ``app`` draws with: TRUECOLOR, EIGHT_BIT, STANDARD or NONE (``NO_COLOR`` set,
    or a terminal Rich finds none in)."""
    if getattr(app, "no_color", False):
        return NONE
    system = app.console.color_system
    return {"truecolor": TRUECOLOR, "256": EIGHT_BIT}.get(system, STANDARD if system else NONE)


def palette(app: Any) -> Palette:
    """The palette of ``app``'s terminal."""
    return Palette.of(color_mode(app))


class Palette:
    """The colors and glyphs of one mode (one of MODES); ``glyphs`` says whether pictures are
    drawn in glyphs (16 colors, none) rather than in shaded half-block pixels."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.glyphs = mode in (STANDARD, NONE)

    @staticmethod
    @cache
    def of(mode: str) -> Palette:
        """The palette of ``mode`` (made once)."""
        return Palette(mode)

    def series(self, index: int) -> Series:
        """The style of a chart's series number ``index`` (a run's in a comparison)."""
        if self.mode == NONE:
            marker = GRAY_MARKERS[index % len(GRAY_MARKERS)]
            return Series(GRAY_SERIES, marker, self.line_swatch if marker == "braille" else marker * 2)
        if self.mode == STANDARD:
            return Series(ansi(ANSI_SERIES[index % len(ANSI_SERIES)]), "braille", "━━")
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        return Series(snap_256(color) if self.mode == EIGHT_BIT else color, "braille", "━━")

    def faint(self, index: int, background: RGB) -> Series:
        """The style of series ``index``'s raw line under its smoothed one, on ``background``:
        fainter than the series, and still its marker where color is gone."""
        style = self.series(index)
        if self.mode == NONE:
            return Series(GRAY_FAINT, style.marker, style.swatch)
        if self.mode == STANDARD:
            return Series(ansi("bright_black"), style.marker, style.swatch)
        faint = blend(SERIES_COLORS[index % len(SERIES_COLORS)], background, FAINT)
        if self.mode == EIGHT_BIT:
            faint = snap_256(faint, SERIES_COLORS[index % len(SERIES_COLORS)])
        return Series(faint, style.marker, style.swatch)

    @property
    def line_swatch(self) -> str:
        """The legend's swatch of a braille line as this mode draws it."""
        return BRAILLE_SWATCH if self.mode == NONE else "━━"

    def fit_colors(self) -> tuple[RGB, RGB]:
        """The Fit picture's (data, model curve) colors: TensorFlow Playground's blue and orange."""
        if self.mode == NONE:
            return GRAY_VALIDATION, GRAY_SAMPLE
        if self.mode == STANDARD:
            return ansi("bright_cyan"), ansi("bright_yellow")
        return self.color(CLASS_COLORS[1]), self.color(blend(CLASS_COLORS[0], (255, 255, 255), 0.1))

    # -- the pixels of a picture (truecolor, 256 colors) ---------------------------------------

    def color(self, color: RGB, hue: RGB | None = None, colored: bool = False) -> RGB:
        """A picture's pixel ``color`` as this mode shows it: itself (truecolor), or the xterm
        color nearest to it of about ``hue``'s hue, or a gray unless ``colored`` (256). Glyph
        modes draw no pixels."""
        if self.glyphs:
            raise ValueError(f"a {self.mode}-color picture is drawn in glyphs, not pixels")
        return snap_256(color, hue, colored) if self.mode == EIGHT_BIT else color

    def cell(self, label: int, step: int, base: RGB) -> RGB:
        """A boundary pixel of class ``label`` at shade ``step`` over the background ``base`` (with
        256 colors a cell more probable than not keeps its class's hue, a fainter one may be gray)."""
        return self.color(cell_color(label, step, base), _class_color(label), step >= STRONG_STEP)

    def sample(self, label: int) -> RGB:
        """A training sample of class ``label``: the color of its class in the legend."""
        return self.color(sample_color(label), _class_color(label), True)

    def validation(self, label: int) -> RGB:
        """A validation sample of class ``label`` (paler)."""
        return self.color(validation_color(label), _class_color(label), True)

    # -- the glyphs of a picture (16 colors, none) ---------------------------------------------

    def sample_mark(self, label: int, validation: bool = False) -> Mark:
        """A sample of class ``label``: its class's shape, filled (training) or hollow."""
        glyph = _cycle(HOLLOW_GLYPHS if validation else SAMPLE_GLYPHS, label)
        if self.mode == NONE:
            return Mark(glyph, GRAY_VALIDATION if validation else GRAY_SAMPLE, not validation)
        return Mark(glyph, ansi(_cycle(ANSI_REGIONS if validation else ANSI_CLASSES, label)), not validation)

    def region_mark(self, label: int, step: int) -> Mark | None:
        """The mark of a boundary cell of class ``label`` at shade ``step`` (None: blank, a
        toss-up between classes; ``?`` where the model's output is not finite)."""
        if label < 0:
            return Mark("?", GRAY_FAINT if self.mode == NONE else ansi("bright_black"))
        if step <= 0:
            return None
        glyph = _cycle(REGION_GLYPHS, label)
        if step < STRONG_STEP:
            return Mark(glyph, GRAY_FAINT if self.mode == NONE else ansi("bright_black"))
        return Mark(glyph, GRAY_REGION if self.mode == NONE else ansi(_cycle(ANSI_REGIONS, label)))

    def heat_mark(self, fraction: float) -> Mark | None:
        """The arena's cell at ``fraction`` of the function's range (0: lowest; None: blank)."""
        level = min(len(HEAT_GLYPHS) - 1, max(0, int(fraction * len(HEAT_GLYPHS))))
        if level == 0:
            return None
        return Mark(HEAT_GLYPHS[level], GRAY_FAINT if self.mode == NONE else ansi("bright_black"))

    def minimum_mark(self) -> Mark:
        """A known minimum of an arena's function."""
        return Mark(MINIMUM_GLYPH, GRAY_SAMPLE if self.mode == NONE else ansi("bright_white"), True)

    def path_mark(self, index: int, now: bool = False) -> Mark:
        """A cell of the path of run ``index`` (its series' color), reversed where it is ``now``."""
        return Mark(_cycle(PATH_GLYPHS, index), self.series(index).color, True, now)

    def path_swatch(self, index: int) -> str:
        """The swatch of a run's path in the arena's legend, as its path is drawn."""
        return _cycle(PATH_GLYPHS, index) * 2 if self.glyphs else self.line_swatch

    def class_swatch(self, label: int) -> tuple[str, RGB]:
        """A class's swatch in the boundary's legend, as its picture draws the class: a block of
        its color, or its sample's shape and its region's mark."""
        if self.glyphs:
            mark = self.sample_mark(label)
            return mark.glyph + _cycle(REGION_GLYPHS, label), mark.color
        return "██", self.sample(label)


def _cycle(items: tuple, index: int) -> Any:
    return items[index % len(items)]


def _class_color(label: int) -> RGB | None:
    return CLASS_COLORS[label % len(CLASS_COLORS)] if label >= 0 else None


def _hue(color: RGB) -> tuple[float, float, float]:
    """(hue in degrees, lightness, saturation) of an RGB color."""
    h, lightness, s = colorsys.rgb_to_hls(*(v / 255 for v in color))
    return h * 360, lightness, s


@cache
def xterm_colors() -> tuple[RGB, ...]:
    """The 256-color terminal's colors Rich shows exactly as given: the 6x6x6 cube and the gray
    ramp, less those Rich would turn into another entry."""
    levels = (0, 95, 135, 175, 215, 255)
    candidates = [(r, g, b) for r in levels for g in levels for b in levels]
    candidates += [(v, v, v) for v in range(8, 239, 10)]
    shown = []
    for color in candidates:
        downgraded = Color.from_rgb(*color).downgrade(ColorSystem.EIGHT_BIT).get_truecolor()
        if tuple(downgraded) == color:
            shown.append(color)
    return tuple(shown)


#: Snapping to 256 colors keeps a color's hue within this many degrees (else it takes a gray).
HUE_TOLERANCE = 15.0


@cache
def snap_256(color: RGB, hue: RGB | None = None, colored: bool = False) -> RGB:
    """The xterm color nearest to ``color``; with ``hue``, only among the colors of about
    ``hue``'s hue and, unless ``colored``, the grays (a faint orange stays orange or turns gray,
    never olive or maroon)."""
    wanted = _hue(hue)[0] if hue is not None and _hue(hue)[2] > 0.2 else None
    best, best_distance = color, float("inf")
    for candidate in xterm_colors():
        h, _, s = _hue(candidate)
        gray = s <= 0.05
        if wanted is not None and (gray and colored or not gray and min(abs(h - wanted), 360 - abs(h - wanted))
                                   > HUE_TOLERANCE):
            continue
        distance = sum((a - b) ** 2 for a, b in zip(color, candidate))
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best

