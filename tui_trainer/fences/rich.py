"""Rich's private names that the app uses (Rich 15), reached only here: the 16 ANSI colors as
Rich matches a color to them (its standard palette)."""

from __future__ import annotations

#: What this module reaches of Rich's private names.
REACHED = ("rich._palettes.STANDARD_PALETTE",)


def standard_palette() -> list[tuple[int, int, int]]:
    """The 16 ANSI colors, by index, as Rich shows them on a 16-color terminal."""
    from rich._palettes import STANDARD_PALETTE

    return [tuple(color) for color in STANDARD_PALETTE]  # type: ignore[misc]


def missing() -> list[str]:
    """The names of REACHED the installed Rich does not have."""
    try:
        palette = standard_palette()
    except (ImportError, TypeError):
        return list(REACHED)
    return [] if len(palette) >= 16 else list(REACHED)
