"""The 2-D playground tasks' points and features, as TensorFlow Playground makes them."""

import math

import pytest
import torch

from helpers import config
from tui_trainer.catalog.tasks import PLANE_FEATURES, TASKS
from tui_trainer.config import ConfigError, resolve, to_dict
from tui_trainer.engine.data import build_dataset
from tui_trainer.engine.plane import (
    GENERATORS, expand_features, make_bumps, make_circle, make_gauss, make_plane, make_two_spirals, make_xor,
)

PLANE_TASKS = [name for name, spec in TASKS.items() if spec.source == "plane"]


def test_the_catalog_offers_the_playground_tasks_with_its_controls():
    assert PLANE_TASKS == ["circle", "xor", "gauss", "spiral", "plane", "bumps"] == list(GENERATORS)
    for name in PLANE_TASKS:
        options = {p.name: p for p in TASKS[name].options}
        classes = ["classes"] if name in ("gauss", "spiral") else []
        assert list(options) == ["samples", "noise", *classes, "train_ratio", "seed", "features"]
        assert (options["noise"].minimum, options["noise"].maximum) == (0, 50)
        assert (options["train_ratio"].minimum, options["train_ratio"].maximum) == (10, 90)
        assert options["features"].default == ["x1", "x2"]


@pytest.mark.parametrize("name", PLANE_TASKS)
def test_points_lie_in_the_plane_and_the_classes_are_balanced(name):
    points, y = GENERATORS[name](torch.Generator().manual_seed(0), 301, 0.0)
    assert points.shape == (301, 2) and points.dtype == torch.float32
    assert points.abs().max() <= 6.0 if name != "gauss" else points.abs().max() < 8
    if name in ("plane", "bumps"):
        assert y.shape == (301, 1) and y.dtype == torch.float32
    else:
        assert y.dtype == torch.int64 and set(y.tolist()) == {0, 1}
        assert abs(int(y.sum()) - 150.5) <= 0.5 or name == "xor"


def test_without_noise_the_labels_follow_the_playgrounds_rules():
    g = torch.Generator().manual_seed(1)
    points, y = make_xor(g, 400, 0.0)
    assert torch.equal(y, (points[:, 0] * points[:, 1] >= 0).long())
    assert points.abs().min() >= 0.3  # kept off the axes
    points, y = make_circle(g, 400, 0.0)
    radius = points.norm(dim=1)
    assert torch.equal(y, (radius < 2.5).long())
    assert ((radius <= 2.5) | (radius >= 3.5)).all()  # a gap between the disc and the ring
    points, y = make_plane(g, 400, 0.0)
    assert torch.allclose(y.squeeze(1), points.sum(dim=1) / 10)


def test_the_bumps_are_the_playgrounds_regress_gaussian():
    """Six bumps of sign +-1 at x1 = -4, 0, 4 and x2 = +-2.5, falling linearly to 0 at distance 2;
    a point takes the value largest in size (the playground's getLabel, written out by hand)."""
    points, y = make_bumps(torch.Generator().manual_seed(2), 2000, 0.0)
    bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for (x, z), value in zip(points.tolist(), y[:, 0].tolist()):
        label = 0.0
        for cx, cy, sign in bumps:
            new = sign * min(1.0, max(0.0, 1 - math.dist((x, z), (cx, cy)) / 2))
            if abs(new) > abs(label):
                label = new
        assert value == pytest.approx(label, abs=1e-6)
    assert y.min() < -0.9 and y.max() > 0.9 and (y == 0).float().mean() > 0.2  # most of the plane is flat
    assert points.abs().max() <= 6.0


@pytest.mark.parametrize("make", [make_gauss, make_two_spirals])
def test_blobs_and_spirals_take_a_class_count_and_keep_the_playgrounds_two(make):
    g = torch.Generator().manual_seed(4)
    points, y = make(g, 301, 0.0, 5)
    assert points.shape == (301, 2) and sorted(set(y.tolist())) == [0, 1, 2, 3, 4]
    assert sorted(torch.bincount(y).tolist()) == [60, 60, 60, 60, 61]
    two = make(torch.Generator().manual_seed(4), 301, 0.0)
    assert torch.equal(two[0], make(torch.Generator().manual_seed(4), 301, 0.0, 2)[0])
    if make is make_gauss:  # the blobs' centres: class 1 at (2, 2), class 0 at (-2, -2) for two
        means = [two[0][two[1] == c].mean(dim=0).tolist() for c in (0, 1)]
        assert means[0] == pytest.approx([-2, -2], abs=0.25) and means[1] == pytest.approx([2, 2], abs=0.25)
        centres = torch.stack([points[y == c].mean(dim=0) for c in range(5)])
        assert centres.norm(dim=1) == pytest.approx([2 * math.sqrt(2)] * 5, abs=0.3)


def test_more_classes_make_a_multiclass_task_with_cross_entropy():
    cfg = config("spiral", task__classes=3)
    assert (cfg.task_spec.kind, cfg.classes, cfg.loss.name, cfg.view) == ("multiclass", 3, "cross-entropy", "boundary")
    assert build_dataset(cfg).classes == 3
    assert config("spiral").task_spec.kind == "binary" and config("spiral").loss.name == "bce-logits"
    with pytest.raises(ConfigError, match="loss: bce-logits"):
        config("gauss", task__classes=4, loss="bce-logits")
    with pytest.raises(ConfigError, match=r"task.classes: 9 is not allowed; must be a whole number in \[2, 8\]"):
        config("gauss", task__classes=9)


def test_noise_moves_labels_and_the_seed_decides_the_points():
    clean = make_xor(torch.Generator().manual_seed(3), 500, 0.0)
    noisy = make_xor(torch.Generator().manual_seed(3), 500, 0.5)
    again = make_xor(torch.Generator().manual_seed(3), 500, 0.5)
    assert torch.equal(noisy[0], again[0]) and torch.equal(noisy[1], again[1])
    wrong = (noisy[1] != (noisy[0][:, 0] * noisy[0][:, 1] >= 0).long()).float().mean()
    assert 0.05 < wrong < 0.5
    assert torch.equal(clean[1], (clean[0][:, 0] * clean[0][:, 1] >= 0).long())


def test_features_are_the_playgrounds_inputs_in_the_order_asked():
    points = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    x1, x2 = points[:, 0], points[:, 1]
    expected = {"x1": x1, "x2": x2, "x1^2": x1 ** 2, "x2^2": x2 ** 2, "x1*x2": x1 * x2,
                "sin(x1)": torch.sin(x1), "sin(x2)": torch.sin(x2)}
    assert list(expected) == list(PLANE_FEATURES)
    out = expand_features(points, PLANE_FEATURES)
    assert out.shape == (2, 7)
    assert torch.allclose(out, torch.stack(list(expected.values()), dim=1))
    assert torch.equal(expand_features(points, ["sin(x2)", "x1"]), torch.stack([torch.sin(x2), x1], 1))
    with pytest.raises(ValueError, match="x3"):
        expand_features(points, ["x3"])


def test_dataset_keeps_the_points_and_the_train_ratio_sets_the_split():
    cfg = config("circle", task__samples=200, task__train_ratio=70, task__features="x1^2,x2^2,x1*x2")
    assert cfg.training.val_split == pytest.approx(0.3)
    data = build_dataset(cfg)
    assert (len(data.x_train), len(data.x_val)) == (140, 60)
    assert data.features == 3 and data.classes == 2
    assert data.points_train.shape == (140, 2) and data.points_val.shape == (60, 2)
    assert torch.equal(data.x_train, expand_features(data.points_train, ["x1^2", "x2^2", "x1*x2"]))
    assert torch.equal(data.x_val, expand_features(data.points_val, ["x1^2", "x2^2", "x1*x2"]))
    assert build_dataset(config("iris")).points_train is None


def test_task_seed_keeps_the_points_while_training_seed_changes():
    first = build_dataset(config("xor", task__seed=5, training__seed=1))
    second = build_dataset(config("xor", task__seed=5, training__seed=2))
    assert torch.equal(first.points_train, second.points_train)
    follows = [build_dataset(config("xor", training__seed=s)).points_train for s in (1, 2)]
    assert not torch.equal(*follows)  # 'training' (the default): training.seed decides


def test_a_val_split_other_than_the_train_ratios_is_refused_naming_both():
    with pytest.raises(ConfigError) as refused:
        config("xor", training__val_split=0.3)
    assert str(refused.value) == (
        "training.val_split: 0.3 is not allowed for task xor, which splits its points by "
        "task.train_ratio (50 % to train on: val_split 0.5); leave val_split out and set "
        "task.train_ratio instead (--set task.train_ratio=70)")
    assert config("xor", training__val_split=0.2, task__train_ratio=80).training.val_split == 0.2


def test_config_files_leave_the_split_to_the_train_ratio():
    cfg = config("spiral", task__train_ratio=60, task__features=["x1", "sin(x1)"])
    saved = to_dict(cfg)
    assert "val_split" not in saved["training"] and saved["task"]["train_ratio"] == 60
    assert resolve(saved) == cfg
    assert resolve(saved, {"task": {"train_ratio": 20}}).training.val_split == 0.8
    # a string of names in a file is read as typed
    assert resolve({"task": {"name": "gauss", "features": "x2, x1"}}).task.params["features"] == ["x2", "x1"]
    assert math.isclose(resolve({"task": "gauss"}).training.val_split, 0.5)
