"""Errors that carry messages meant for the person at the keyboard."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: ``field`` is dotted (``optimizer.lr``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ConfigError(ValueError):
    """Every problem found in a config at once."""

    def __init__(self, problems: list[FieldError]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def for_field(self, field: str) -> list[FieldError]:
        """The problems reported for one field."""
        return [p for p in self.problems if p.field == field]


class UserFacingError(RuntimeError):
    """A failure with a message a person can act on (missing data files, no such device ...)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
