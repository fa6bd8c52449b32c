"""Reading and checking the ``csv`` task's table (torch-free; pandas is imported only when the task
is used).

``read_table`` and ``plan_table`` are self-contained (pandas and the standard library, imported
inside), so the script export copies them as they are; they raise ValueError with a message
naming the file, the row or the column. ``describe_csv`` is what the config needs before any
training: the kind the table decides, its class count and the decision in words.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from tui_trainer.errors import UserFacingError


def read_table(path, delimiter="auto"):
    """The file as a pandas DataFrame. ``delimiter`` 'auto' sniffs it from the file's start
    (comma, semicolon, tab or bar; tab for .tsv files when the sniffer cannot tell)."""
    import csv
    from pathlib import Path

    import pandas as pd

    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"{file}: " + ("not a file (a folder or a device); give a CSV or TSV file"
                                        if file.exists() else "no such file"))
    try:
        with file.open(encoding="utf-8", errors="replace", newline="") as handle:
            sample = handle.read(65536)
    except OSError as exc:
        raise ValueError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if not sample.strip():
        raise ValueError(f"{file}: the file is empty")
    if delimiter == "auto":
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = "\t" if file.suffix.lower() == ".tsv" else ","
    elif delimiter == "tab":
        delimiter = "\t"
    with file.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = enumerate(csv.reader(handle, delimiter=delimiter), 1)
        try:
            width = next(len(row) for _, row in rows if row)
            for line, row in rows:
                if row and len(row) != width:
                    raise ValueError(f"{file}: line {line} has {len(row)} fields where the header has "
                                     f"{width} (ragged rows); every row needs one value per column")
        except csv.Error as exc:
            raise ValueError(f"{file}: not a readable table ({exc})") from None
    try:
        frame = pd.read_csv(file, sep=delimiter, skipinitialspace=True, index_col=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{file}: not a readable table ({str(exc).strip()})") from None
    if len(frame) == 0:
        raise ValueError(f"{file}: the file has a header but no rows")
    frame.columns = [str(name).strip() for name in frame.columns]
    # read_csv keeps each column in a block of its own; copied, the columns of one type share a
    # block, and picking columns of a wide table (100,000 columns) takes milliseconds, not minutes.
    return frame.copy()


def plan_table(frame, file, target, kind="auto", features=(), missing="refuse", max_categories=20):
    """Check the columns and decide what each one becomes. Returns a dict: ``kind``
    ('regression' or 'classification'), ``classes`` (the target's class names, or None),
    ``numeric`` and ``categorical`` (feature columns), ``missing_rows`` and ``decision`` (what
    was decided, in words)."""
    import pandas as pd

    columns = list(frame.columns)
    dtypes = dict(zip(columns, frame.dtypes))  # looked up by name: linear in the columns
    listed = ", ".join(repr(c) for c in columns[:20]) + (f" and {len(columns) - 20:,} more"
                                                          if len(columns) > 20 else "")
    if target not in dtypes:
        raise ValueError(f"{file}: no column {target!r} to predict (task.target); the columns are {listed}")
    features = list(features) or [c for c in columns if c != target]
    unknown = [c for c in features if c not in dtypes]
    if unknown:
        raise ValueError(f"{file}: no column {unknown[0]!r} (task.features); the columns are {listed}")
    if target in features:
        raise ValueError(f"{file}: column {target!r} is the target; leave it out of task.features")
    if not features:
        raise ValueError(f"{file}: no feature columns besides the target {target!r}")
    numeric, categorical = [], []
    for column in features:
        if pd.api.types.is_bool_dtype(dtypes[column]) or pd.api.types.is_numeric_dtype(dtypes[column]):
            numeric.append(column)
            continue
        distinct = frame[column].dropna().astype(str).unique()
        if len(distinct) > max_categories:
            examples = ", ".join(repr(v) for v in distinct[:3])
            raise ValueError(f"{file}: column {column!r} is neither numeric nor a small category set "
                             f"(text with {len(distinct)} distinct values, e.g. {examples}; at most "
                             f"{max_categories} are one-hot encoded); leave it out with task.features")
        categorical.append(column)
    numbers = frame[[*numeric, target] if pd.api.types.is_numeric_dtype(dtypes[target]) else numeric]
    infinite = numbers.isin([float("inf"), float("-inf")]).stack()
    if infinite.any():  # "inf", or a number past float's range (1e400): pandas reads both as inf
        row, column = infinite[infinite].index[0]
        raise ValueError(f"{file}: column {column!r} holds {numbers.at[row, column]} at line {row + 2} "
                         "(inf, or a number too large for a float); every number must be finite")
    labels = frame[target].dropna()
    if len(labels) == 0:
        raise ValueError(f"{file}: column {target!r} (the target) has no values")
    numeric_target = pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels)
    distinct = labels.unique()
    few_integers = numeric_target and bool((labels == labels.round()).all()) and len(distinct) <= max_categories
    if kind == "auto":
        kind = "classification" if not numeric_target or few_integers else "regression"
        why = ("text" if not numeric_target else f"{len(distinct)} distinct whole numbers"
               if few_integers else "numbers")
        decision = f"target {target!r} holds {why}: {kind}"
    else:
        decision = f"target {target!r}: {kind} (task.kind)"
    if kind == "regression" and not numeric_target:
        raise ValueError(f"{file}: column {target!r} holds text, not numbers; regression needs a "
                         "numeric target (use task.kind = classification)")
    classes = None
    if kind == "classification":
        classes = [str(c) for c in sorted(distinct)]
        if len(classes) < 2:
            raise ValueError(f"{file}: column {target!r} (the target) has one class only ({classes[0]!r}); "
                             "classification needs at least two")
        decision += f" with {len(classes)} classes ({', '.join(classes[:10])}" + (
            ", ...)" if len(classes) > 10 else ")")
    used = frame[[target, *features]]
    gaps = used.isna()
    rows = [int(i) for i in used.index[gaps.any(axis=1)]]
    if rows and missing == "refuse":
        where = ", ".join(str(i + 2) for i in rows[:5])
        holes = ", ".join(repr(c) for c in used.columns[gaps.any(axis=0)])
        raise ValueError(f"{file}: {len(rows)} rows have missing values (first at lines {where}; in "
                         f"columns {holes}); set task.missing to drop, mean or mode")
    if categorical:
        decision += f"; one-hot: {', '.join(categorical)}"
    return {"kind": kind, "classes": classes, "numeric": numeric, "categorical": categorical,
            "missing_rows": len(rows), "decision": decision}


def table_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``load_table`` (less the split) for the csv task's options."""
    features = [f.strip() for f in options["features"].split(",") if f.strip()]
    return {"path": str(Path(options["path"]).expanduser().absolute()) if options["path"] else "",
            "target": options["target"], "kind": options["kind"], "features": features,
            "delimiter": options["delimiter"], "missing": options["missing"],
            "test_path": str(Path(options["test_path"]).expanduser().absolute()) if options["test_path"] else ""}


def describe_csv(options: dict[str, Any]) -> dict[str, Any]:
    """What the config needs to know of the file (kind, class count, the decision in words);
    raises UserFacingError naming the option at fault (``task.path: ...``)."""
    arguments = table_arguments(options)
    if not arguments["path"]:
        raise UserFacingError("task.path: give the CSV (or TSV) file to learn from")
    file = Path(arguments["path"])
    if not arguments["target"]:
        try:
            summary = column_summary(read_table(file, arguments["delimiter"]))
            columns = "; the columns:\n    " + summary.replace("\n", "\n    ")
        except ValueError:
            columns = ""
        raise UserFacingError(f"task.target: give the column to predict{columns}")
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.is_file() else None
                  for f in (file, Path(arguments["test_path"] or file)))
    return _describe(stamp, tuple((k, tuple(v) if isinstance(v, list) else v)
                                  for k, v in arguments.items()))


@functools.lru_cache(maxsize=32)
def _describe(stamp, arguments: tuple) -> dict[str, Any]:
    values = dict(arguments)
    try:
        frame = read_table(values["path"], values["delimiter"])
        plan = plan_table(frame, values["path"], values["target"], values["kind"],
                          values["features"], values["missing"])
        if values["test_path"]:  # the test table: readable, with the columns the model takes
            test = read_table(values["test_path"], values["delimiter"])
            absent = [c for c in [values["target"], *plan["numeric"], *plan["categorical"]]
                      if c not in test.columns]
            if absent:
                raise ValueError(f"{values['test_path']}: no column {absent[0]!r} (task.test_path needs the "
                                 f"columns of {Path(values['path']).name})")
    except ValueError as exc:
        message = str(exc)
        field = "task.test_path" if values["test_path"] and message.startswith(values["test_path"]) else field_of(message)
        raise UserFacingError(f"{field}: {exc}") from None
    classes = plan["classes"]
    kind = "regression" if classes is None else "binary" if len(classes) == 2 else "multiclass"
    return {"kind": kind, "classes": None if classes is None else len(classes),
            "note": plan["decision"], "details": column_summary(frame)}


def field_of(message: str) -> str:
    """The option a message of ``read_table``/``plan_table``/``load_table`` is about."""
    for words, field in (("task.test_path", "task.test_path"), ("task.features", "task.features"), ("task.missing", "task.missing"),
                         ("task.kind", "task.kind"), ("task.target", "task.target"),
                         ("the target", "task.target")):
        if words in message:
            return field
    return "task.path"


#: ``column_summary`` lists this many columns, then says how many more there are.
SUMMARY_COLUMNS = 50


def column_summary(frame, examples: int = 3) -> str:
    """Each column with its type and a few values, one per line (for the form's help); a wide
    table's first SUMMARY_COLUMNS columns, then how many more."""
    import pandas as pd

    lines = []
    for column in frame.columns[:SUMMARY_COLUMNS]:
        values = frame[column].dropna()
        kind = "number" if pd.api.types.is_numeric_dtype(values) else "text"
        shown = ", ".join(str(v) for v in values.unique()[:examples])
        lines.append(f"{column} ({kind}, {values.nunique()} distinct): {shown}")
    if len(frame.columns) > SUMMARY_COLUMNS:
        lines.append(f"... and {len(frame.columns) - SUMMARY_COLUMNS:,} more columns")
    return "\n".join(lines)
