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
from tui_trainer.engine.table_reader import plan_table, read_table, table_arguments
from tui_trainer.errors import UserFacingError


def load_table(path, target, kind, features, delimiter, missing, val_split, g):
    """The table as tensors, split with ``g`` into (x_train, y_train, x_val, y_val, classes).

    Rows without a target are dropped unless missing is 'refuse' (which refuses any gap); 'drop'
    drops every row with a gap; 'mean' fills numeric gaps with the training split's mean and text
    gaps with its most common value; 'mode' fills every gap with the most common value. Numeric
    columns are standardized with the training split's mean and standard deviation; text columns
    become one 0/1 column per category seen in the training split (a category seen only in
    validation is all zeros). A classification target becomes class indices (in sorted order of
    its values), a regression target a standardized float column.
    """
    import torch

    frame = read_table(path, delimiter)
    plan = plan_table(frame, path, target, kind, features, missing)
    columns = plan["numeric"] + plan["categorical"]
    frame = frame[[target, *columns]].dropna(subset=[target])
    if missing == "drop":
        frame = frame.dropna()
    frame = frame.reset_index(drop=True)
    if plan["classes"] is not None:
        index = {name: i for i, name in enumerate(plan["classes"])}
        y = torch.tensor([index[str(v)] for v in frame[target]], dtype=torch.int64)
    else:
        y = torch.tensor(frame[target].to_numpy(dtype="float64"), dtype=torch.float32).unsqueeze(1)
    rows = torch.arange(len(frame))
    train_rows, y_train, val_rows, y_val = split(rows, y, val_split, g)
    train, val = frame.iloc[train_rows.tolist()], frame.iloc[val_rows.tolist()]
    if missing in ("mean", "mode"):
        fill = {}
        for column in columns:
            present = train[column].dropna()
            use_mean = missing == "mean" and column in plan["numeric"]
            fill[column] = present.mean() if use_mean else (present.mode().iloc[0] if len(present) else 0)
        train, val = train.fillna(fill), val.fillna(fill)
    blocks_train, blocks_val = [], []
    if plan["numeric"]:
        numbers = [torch.tensor(part[plan["numeric"]].to_numpy(dtype="float64"), dtype=torch.float32)
                   for part in (train, val)]
        scaled_train, scaled_val = standardize(*numbers)
        blocks_train.append(scaled_train)
        blocks_val.append(scaled_val)
    for column in plan["categorical"]:
        categories = sorted(train[column].astype(str).unique())
        for part, blocks in ((train, blocks_train), (val, blocks_val)):
            text = part[column].astype(str).tolist()
            blocks.append(torch.tensor([[float(v == c) for c in categories] for v in text],
                                       dtype=torch.float32).reshape(len(text), len(categories)))
    x_train, x_val = torch.cat(blocks_train, dim=1), torch.cat(blocks_val, dim=1)
    if plan["classes"] is None:
        y_train, y_val = standardize(y_train, y_val)
    return x_train, y_train, x_val, y_val, plan["classes"]


#: The functions an exported script holds for this task (with the engine's split).
SCRIPT_FUNCTIONS = (read_table, plan_table, load_table, standardize)


def script_data(options: dict[str, Any]) -> str:
    """The exported script's line that reads and splits the table."""
    arguments = ", ".join(f"{key}={value!r}" for key, value in table_arguments(options).items())
    return f"x_train, y_train, x_val, y_val, classes = load_table({arguments}, val_split=VAL_SPLIT, g=g)"


def csv_dataset(config: Config) -> Dataset:
    """The csv task's Dataset (UserFacingError naming the option and the file, row or column)."""
    g = torch.Generator().manual_seed(config.training.seed)
    try:
        x_train, y_train, x_val, y_val, classes = load_table(
            **table_arguments(config.task.params), val_split=config.training.val_split, g=g)
    except ValueError as exc:
        raise UserFacingError(f"task.path: {exc}") from None
    check_split(len(x_train) + len(x_val), config.training.val_split, "csv")
    return Dataset(x_train, y_train, x_val, y_val, None if classes is None else len(classes),
                   class_names=classes)
