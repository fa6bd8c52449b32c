"""Typed parameter descriptions: one schema drives validation, CLI flags and the app's forms.

This module is torch-free on purpose: the app builds its forms from it before torch loads.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from tui_trainer.paths import path_problem

#: Literal words a parameter may accept instead of a number (``"off"``, ``"full"`` ...).
Keyword = str
#: The largest whole number torch takes where it expects an integer (a C ``int64``); an ``int``
#: Param with no ``maximum`` of its own is capped here.
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Param:
    """One user-settable value: its type, default, allowed range and help text.

    ``kind`` is one of ``float``, ``int``, ``bool``, ``choice``, ``floats`` (a fixed-length
    list, e.g. Adam's betas), ``ints`` (a list, e.g. hidden sizes), ``names`` (a list of one or
    more distinct ``choices``, e.g. a 2-D task's input features), ``str`` and ``table`` (keyword
    arguments: names and TOML values, typed as ``width=32, act="relu"``).
    ``keywords`` are words accepted in place of a number (``"off"``, ``"full"``).
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    length: int | None = None
    keywords: tuple[Keyword, ...] = ()
    #: A ``str`` that names a file or folder: a path no file can have is refused (``path_problem``).
    path: bool = False

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and help."""
        if self.kind == "bool":
            text = "must be true or false"
        elif self.kind == "choice":
            text = "must be one of " + ", ".join(self.choices)
        elif self.kind == "str":
            text = "must be text"
        elif self.kind == "names":
            text = f"must be one or more of {', '.join(self.choices)}, comma-separated, each once"
        elif self.kind == "table":
            text = "must be keyword arguments NAME=VALUE, comma-separated (TOML values: 32, 0.5, true, \"text\", [1, 2])"
        else:
            noun = {
                "float": "a number",
                "int": "a whole number",
                "floats": f"{self.length} numbers" if self.length else "numbers",
                "ints": "a comma-separated list of whole numbers",
            }[self.kind]
            text = f"must be {noun}{self._range_words()}"
        if self.keywords:
            text += " or " + " or ".join(repr(k) for k in self.keywords)
        return text

    def _range_words(self) -> str:
        lo, hi = self.minimum, self.maximum
        each = " each" if self.kind in ("floats", "ints") else ""
        if lo is not None and hi is not None:
            left = "(" if self.min_exclusive else "["
            right = ")" if self.max_exclusive else "]"
            return f"{each} in {left}{_num(lo)}, {_num(hi)}{right}"
        if lo is not None:
            return f"{each} {'>' if self.min_exclusive else '>='} {_num(lo)}"
        if hi is not None:
            return f"{each} {'<' if self.max_exclusive else '<='} {_num(hi)}"
        return ""

    def parse(self, text: str) -> Any:
        """Turn text typed by a person (CLI flag, form field) into a value, or raise ValueError."""
        text = text.strip()
        if text in self.keywords:
            return text
        try:
            if self.kind == "float":
                return float(text)
            if self.kind == "int":
                return int(text)
            if self.kind == "bool":
                lowered = text.lower()
                if lowered in ("true", "yes", "on", "1"):
                    return True
                if lowered in ("false", "no", "off", "0"):
                    return False
                raise ValueError
            if self.kind == "floats":
                return [float(p) for p in _split_list(text)]
            if self.kind == "ints":
                return [int(p) for p in _split_list(text)]
            if self.kind == "names":
                return _split_names(text)
            if self.kind == "table":
                return parse_table(text)
        except ValueError:
            raise ValueError(f"{text!r} is not allowed; {self.allowed()}") from None
        return text

    def format(self, value: Any) -> str:
        """Turn a value into the text ``parse`` reads back (for forms and messages)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict):
            return ", ".join(f"{key}={toml_value(item)}" for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return ",".join(_num(v) for v in value)
        if isinstance(value, float):
            return _num(value)
        return str(value)

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is not allowed (the ``allowed`` text), or None when it is fine."""
        if isinstance(value, str) and value in self.keywords:
            return None
        if self.path and isinstance(value, str) and value and (problem := path_problem(value)):
            return f"cannot name a file or folder: {problem}"
        ok = {
            "float": lambda v: _is_number(v) and _finite(v) and self._in_range(v),
            "int": lambda v: _is_int(v) and self._in_range(v),
            "bool": lambda v: isinstance(v, bool),
            "choice": lambda v: isinstance(v, str) and v in self.choices,
            "str": lambda v: isinstance(v, str),
            "floats": lambda v: _is_list(v, _is_number)
            and (self.length is None or len(v) == self.length)
            and all(_finite(x) and self._in_range(x) for x in v),
            "ints": lambda v: _is_list(v, _is_int) and all(self._in_range(x) for x in v),
            "names": lambda v: self._names_problem(v) is None,
            "table": lambda v: table_problem(v) is None,
        }[self.kind]
        if ok(value):
            return None
        if self.kind == "names":
            return self._names_problem(value)
        if self.kind == "table" and isinstance(value, dict):
            return table_problem(value)
        if self.maximum is None and _has_int_over(value, INT64_MAX):
            return f"must be at most {INT64_MAX} (2^63 - 1, the largest whole number torch takes)"
        return self.allowed()

    def _names_problem(self, value: Any) -> str | None:
        """What is wrong with a ``names`` value, naming the allowed names, or None."""
        names = ", ".join(self.choices)
        if not _is_list(value, lambda x: isinstance(x, str)) or not value:
            return f"give one or more of {names}, comma-separated"
        unknown = [name for name in value if name not in self.choices]
        if unknown:
            return f"{unknown[0]!r} is none of {names}"
        repeated = [name for i, name in enumerate(value) if name in value[:i]]
        return f"{repeated[0]!r} is given twice; give each once" if repeated else None

    def _in_range(self, v: float) -> bool:
        if self.minimum is not None:
            if v < self.minimum or (self.min_exclusive and v == self.minimum):
                return False
        if self.maximum is not None:
            if v > self.maximum or (self.max_exclusive and v == self.maximum):
                return False
        elif isinstance(v, int) and v > INT64_MAX:
            return False
        return True


def _split_list(text: str) -> list[str]:
    text = text.strip().strip("[]()")
    return [p for p in re.split(r"[,\s]+", text) if p]


def _split_names(text: str) -> list[str]:
    """Names typed as ``x1, x2`` or ``[x1 x2]`` (quotes around a name are dropped; brackets are
    stripped only around the whole list, since a name may hold them: ``sin(x1)``)."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [p.strip("'\"") for p in re.split(r"[,\s]+", text) if p.strip("'\"")]


#: A keyword argument's name: a Python identifier.
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_table(text: str) -> dict[str, Any]:
    """Keyword arguments typed as ``width=32, act="relu", sizes=[8, 8]`` (or in braces): each
    value read as TOML reads it, a bare word as text. Raises ValueError."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    table: dict[str, Any] = {}
    for part in _top_level_parts(text):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not NAME_PATTERN.match(name):
            raise ValueError(part)
        table[name] = toml_parse(value)
    return table


def toml_parse(text: str) -> Any:
    """A value typed as TOML writes it (``32``, ``0.5``, ``true``, ``"relu"``, ``[1, 2]``); a bare
    word that is not TOML is the text itself (``relu``)."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if not text or any(c in text for c in "[]{}\"'=,"):
            raise ValueError(text) from None
        return text


def toml_value(value: Any) -> str:
    """A value as TOML writes it inline (what ``toml_parse`` reads back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def table_problem(value: Any) -> str | None:
    """Why ``value`` is not a table of keyword arguments (names, and TOML values), or None."""
    if not isinstance(value, dict):
        return "must be a table of keyword arguments (NAME=VALUE, comma-separated)"
    for name, item in value.items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            return f"{name!r} is not a keyword argument name (letters, digits and _, not first a digit)"
        if not _toml_like(item):
            return f"{name}: {show_value(item)} is not a value a config holds (a number, true/false, text or a list)"
    return None


def _toml_like(value: Any) -> bool:
    if isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, (list, tuple)):
        return all(_toml_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _toml_like(v) for k, v in value.items())
    return False


def _top_level_parts(text: str) -> list[str]:
    """``text`` split at the commas outside brackets, braces and quotes (empty parts dropped)."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v: float) -> bool:
    """Whether a number is finite as a float (a 400-digit integer is not: it overflows)."""
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _has_int_over(value: Any, limit: int) -> bool:
    """Whether a whole number, or one in a list, is above ``limit``."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(_is_int(v) and v > limit for v in values)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_list(v: Any, item_ok) -> bool:
    return isinstance(v, (list, tuple)) and all(item_ok(x) for x in v)


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v)) if abs(v) >= 1 or v == 0 else repr(v)
    return repr(v) if isinstance(v, float) else str(v)


def show_value(value: Any) -> str:
    """Show a value the way a person typed it, for messages (``-1``, ``'adamm'``, ``[0.9, 2]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)
