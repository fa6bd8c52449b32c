"""Config resolution: recipes, layering, every problem at once, TOML round trips."""

import pytest
from hypothesis import given, settings, strategies as st

from helpers import config
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS
from tui_trainer.config import (
    Text, default_config, load_config, resolve, resolve_flags, save_config, to_dict, to_toml,
)
from tui_trainer.errors import ConfigError


def problems(*layers):
    with pytest.raises(ConfigError) as info:
        resolve(*layers)
    return [str(p) for p in info.value.problems]


def test_linear_starts_from_tutorial_003():
    cfg = default_config()
    assert cfg.task.name == "linear"
    assert cfg.task.params == {"samples": 100, "slope": 2.0, "intercept": 3.0, "noise": 0.1}
    assert cfg.model.hidden == []
    assert (cfg.loss.name, cfg.optimizer.name, cfg.optimizer.params["lr"]) == ("mse", "adam", 0.01)
    assert (cfg.training.epochs, cfg.training.batch_size) == (1000, "full")


def test_mnist_recipe_is_tutorial_004():
    cfg = default_config("mnist")
    assert cfg.model.hidden == [128, 64]
    assert (cfg.loss.name, cfg.optimizer.name, cfg.optimizer.params["lr"]) == ("cross-entropy", "adam", 0.001)
    assert (cfg.training.epochs, cfg.training.batch_size) == (10, 64)


def test_every_problem_is_reported_at_once_with_field_value_and_allowed():
    found = problems({"optimizer": {"name": "sgd", "lr": -1, "momentun": 0.9},
                      "training": {"batch_size": 0, "val_split": 2}})
    assert "optimizer.lr: -1 is not allowed; must be a number > 0" in found
    assert any(p.startswith("optimizer.momentun: unknown setting for sgd (did you mean 'momentum'?)")
               for p in found)
    assert "training.batch_size: 0 is not allowed; must be a whole number >= 1 or 'full'" in found
    assert "training.val_split: 2 is not allowed; must be a number in [0, 0.9]" in found
    assert len(found) == 4


def test_unknown_names_suggest_the_closest():
    found = problems({"optimizer": "adamm", "sheduler": {}})
    assert any(p.startswith("optimizer.name: 'adamm' is not allowed (did you mean 'adam'?)") for p in found)
    assert any(p.startswith("sheduler: unknown section (did you mean 'scheduler'?)") for p in found)
    assert problems({"task": "mnistt"})[0].startswith("task.name: 'mnistt' is not allowed (did you mean 'mnist'?)")


def test_loss_that_does_not_fit_is_refused_with_the_reason():
    assert problems({"task": "digits", "loss": "bce"}) == [
        "loss: bce needs one output in [0, 1] (a binary task); task digits has 10 classes; "
        "use cross-entropy or nll"]
    assert problems({"task": "linear", "loss": "cross-entropy"})[0].startswith(
        "loss: cross-entropy needs class labels; task linear is regression; use mse")
    assert problems({"task": "iris", "loss": "mse"})[0].startswith("loss: mse needs a real-valued output")


def test_flags_override_file_and_changing_a_choice_drops_its_foreign_params():
    file_dict = {"optimizer": {"name": "adam", "lr": 0.05, "betas": [0.8, 0.9]}}
    cfg = resolve_flags(file_dict, {"optimizer.name": Text("sgd"), "optimizer.momentum": Text("0.9")})
    assert cfg.optimizer.name == "sgd"
    assert cfg.optimizer.params["lr"] == 0.05  # sgd takes lr: carried over
    assert cfg.optimizer.params["momentum"] == 0.9
    assert "betas" not in cfg.optimizer.params


def test_text_values_are_parsed_with_the_fields_type():
    cfg = resolve_flags(None, {"task": Text("digits"), "model.hidden": Text("32,16"),
                               "training.batch_size": Text("full"), "training.grad_clip": Text("1.5"),
                               "optimizer.betas": Text("0.8,0.9")})
    assert cfg.model.hidden == [32, 16]
    assert cfg.training.batch_size == "full"
    assert cfg.training.grad_clip == 1.5
    assert cfg.optimizer.params["betas"] == [0.8, 0.9]


def test_device_names_are_checked_before_torch():
    assert problems({"training": {"device": "gpu"}}) == [
        "training.device: 'gpu' is not allowed; must be auto, cpu, cuda, cuda:N (N a GPU index) or mps"]


def test_user_loss_path_must_exist(tmp_path):
    assert problems({"loss": str(tmp_path / "nope.py") + ":MyLoss"})[0].startswith("loss: file ")


def test_toml_round_trip_gives_the_same_config(tmp_path):
    cfg = config("multiclass", optimizer="sgd", optimizer__momentum=0.9, optimizer__nesterov=True,
                 scheduler="one-cycle", training__grad_clip=1.0, task__classes=4)
    path = save_config(cfg, tmp_path / "run.toml")
    assert load_config(path) == cfg
    assert "[optimizer]" in to_toml(cfg)


def test_broken_or_missing_toml_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[optimizer\nlr = 1")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


choices = st.fixed_dictionaries({
    "task": st.sampled_from(sorted(TASKS)),
    "optimizer": st.sampled_from(sorted(OPTIMIZERS)),
    "scheduler": st.sampled_from(sorted(SCHEDULERS)),
    "lr": st.floats(min_value=1e-6, max_value=10),
    "epochs": st.integers(min_value=1, max_value=10_000),
    "batch": st.one_of(st.just("full"), st.integers(min_value=1, max_value=4096)),
    "hidden": st.lists(st.integers(min_value=1, max_value=512), max_size=3),
})


@pytest.fixture(scope="module")
def own_data(tmp_path_factory):
    """The options that point the csv and images tasks at small files of their own."""
    from conftest import make_shapes_dir, write_table_csv

    folder = tmp_path_factory.mktemp("own-data")
    return {"csv": {"path": str(write_table_csv(folder / "t.csv", rows=20)), "target": "species"},
            "images": {"path": str(make_shapes_dir(folder / "shapes", per_class=2))}}


@settings(max_examples=60, deadline=None)
@given(choices)
def test_any_valid_config_survives_toml(tmp_path_factory, own_data, c):
    task = {"name": c["task"], **own_data.get(c["task"], {})}
    network = TASKS[c["task"]].kind != "arena"  # an arena task moves a point: no layers, no batches
    cfg = resolve({"task": task, "optimizer": {"name": c["optimizer"], "lr": c["lr"]},
                   "scheduler": c["scheduler"], "model": {"hidden": c["hidden"]} if network else {},
                   "training": {"epochs": c["epochs"], **({"batch_size": c["batch"]} if network else {})}})
    path = save_config(cfg, tmp_path_factory.mktemp("toml") / "c.toml")
    assert load_config(path) == cfg
    assert to_dict(load_config(path)) == to_dict(cfg)
