"""The ``csv`` task's data: the table (read and checked by ``table_reader``) encoded as tensors
with the training split's statistics.

``load_table`` is self-contained (pandas, torch, the engine's ``split`` and ``standardize`` and
``table_reader``'s functions), so the script export copies it with them.
"""

from __future__ import annotations

from typing import Any

import torch

from tui_trainer.config import Config
from tui_trainer.engine.data import Dataset, check_split, split, standardize
from tui_trainer.engine.table_reader import field_of, plan_table, read_table, table_arguments
from tui_trainer.errors import UserFacingError


def load_table(path, target, kind, features, delimiter, missing, val_split, g, test_path="", rows=None):
    """The table as tensors, split with ``g``: (x_train, y_train, x_val, y_val, x_test, y_test,
    classes); with ``test_path``, a second table with the same columns is the test set, encoded
    as the validation rows are (else x_test and y_test are None). A dict given as ``rows`` gets
    each split's rows of its file ("train", "val", "test": the row of each sample in the table
    pandas read, 0 the first after the header), so a sample can be shown as its file has it.

    Rows without a target are dropped unless missing is 'refuse' (which refuses any gap); 'drop'
    drops every row with a gap; 'mean' fills numeric gaps with the training split's mean and text
    gaps with its most common value; 'mode' fills every gap with the most common value. Numeric
    columns are standardized with the training split's mean and standard deviation; text columns
    become one 0/1 column per category seen in the training split (a category seen only in
    validation or test rows is all zeros). A classification target becomes class indices (in
    sorted order of its values), a regression target a standardized float column.
    """
    from pathlib import Path

    import torch

    frame = read_table(path, delimiter)
    plan = plan_table(frame, path, target, kind, features, missing)
    columns = plan["numeric"] + plan["categorical"]
    test = None
    if test_path:
        test = read_table(test_path, delimiter)
        absent = [c for c in [target, *columns] if c not in test.columns]
        if absent:
            raise ValueError(f"{Path(test_path).expanduser()}: no column {absent[0]!r} (task.test_path needs "
                             f"the columns of {Path(path).expanduser().name}: {', '.join([target, *columns])})")
        test = test[[target, *columns]]
        gaps = [int(i) + 2 for i in test.index[test.isna().any(axis=1)]]
        if gaps and missing == "refuse":
            raise ValueError(f"{Path(test_path).expanduser()}: {len(gaps)} rows have missing values (first "
                             f"at line {gaps[0]}; task.test_path); set task.missing to drop, mean or mode")
        test = test.dropna() if missing == "drop" else test.dropna(subset=[target])
        test_rows, test = test.index.tolist(), test.reset_index(drop=True)
        if len(test) == 0:
            raise ValueError(f"{Path(test_path).expanduser()}: no rows left to test on (task.test_path)")
    frame = frame[[target, *columns]].dropna(subset=[target])
    if missing == "drop":
        frame = frame.dropna()
    file_rows, frame = frame.index.tolist(), frame.reset_index(drop=True)

    def targets(part):
        if plan["classes"] is not None:
            index = {name: i for i, name in enumerate(plan["classes"])}
            unknown = [str(v) for v in part[target] if str(v) not in index]
            if unknown:
                raise ValueError(f"{Path(test_path).expanduser()}: class {unknown[0]!r} of column {target!r} "
                                 f"is not one of the training classes ({', '.join(plan['classes'])}; "
                                 "task.test_path)")
            return torch.tensor([index[str(v)] for v in part[target]], dtype=torch.int64)
        return torch.tensor(part[target].to_numpy(dtype="float64"), dtype=torch.float32).unsqueeze(1)

    y = targets(frame)
    train_rows, y_train, val_rows, y_val = split(torch.arange(len(frame)), y, val_split, g)
    parts = [frame.iloc[train_rows.tolist()], frame.iloc[val_rows.tolist()]] + ([test] if test is not None else [])
    if rows is not None:
        rows.update(train=[file_rows[i] for i in train_rows.tolist()], val=[file_rows[i] for i in val_rows.tolist()],
                    test=test_rows if test is not None else [])
    if missing in ("mean", "mode"):
        fill = {}
        numeric = set(plan["numeric"])
        for column in columns:
            present = parts[0][column].dropna()
            use_mean = missing == "mean" and column in numeric
            fill[column] = present.mean() if use_mean else (present.mode().iloc[0] if len(present) else 0)
        parts = [part.fillna(fill) for part in parts]
    blocks = [[] for _ in parts]
    if plan["numeric"]:
        numbers = [torch.tensor(part[plan["numeric"]].to_numpy(dtype="float64"), dtype=torch.float32)
                   for part in parts]
        for block, scaled in zip(blocks, standardize(*numbers)):
            block.append(scaled)
    for column in plan["categorical"]:
        categories = sorted(parts[0][column].astype(str).unique())
        for part, block in zip(parts, blocks):
            text = part[column].astype(str).tolist()
            block.append(torch.tensor([[float(v == c) for c in categories] for v in text],
                                      dtype=torch.float32).reshape(len(text), len(categories)))
    x_train, x_val, *x_test = [torch.cat(block, dim=1) for block in blocks]
    y_test = [targets(test)] if test is not None else []
    if plan["classes"] is None:
        y_train, y_val, *y_test = standardize(y_train, y_val, *y_test)
    return (x_train, y_train, x_val, y_val, x_test[0] if x_test else None, y_test[0] if y_test else None,
            plan["classes"])


#: The functions an exported script holds for this task (with the engine's split).
SCRIPT_FUNCTIONS = (read_table, plan_table, load_table, standardize)


def script_data(options: dict[str, Any]) -> str:
    """The exported script's line that reads and splits the table."""
    arguments = ", ".join(f"{key}={value!r}" for key, value in table_arguments(options).items())
    return (f"x_train, y_train, x_val, y_val, x_test, y_test, classes = load_table({arguments}, "
            "val_split=VAL_SPLIT, g=g)")


def csv_dataset(config: Config) -> Dataset:
    """The csv task's Dataset (UserFacingError naming the option and the file, row or column)."""
    g = torch.Generator().manual_seed(config.training.seed)
    rows: dict[str, list[int]] = {}
    try:
        x_train, y_train, x_val, y_val, x_test, y_test, classes = load_table(
            **table_arguments(config.task.params), val_split=config.training.val_split, g=g, rows=rows)
    except ValueError as exc:
        raise UserFacingError(f"{field_of(str(exc))}: {exc}") from None
    check_split(len(x_train) + len(x_val), config.training.val_split, "csv")
    return Dataset(x_train, y_train, x_val, y_val, None if classes is None else len(classes),
                   class_names=classes, x_test=x_test, y_test=y_test, rows=rows)
