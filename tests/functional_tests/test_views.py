"""The run's pictures: the boundary grid is the model's prediction at the grid's points, the fit
curve is the model's output, a live view changes nothing in training, and the last picture is
left in the run folder."""

from __future__ import annotations

import json
import math

import pytest
import torch

from helpers import config
from tui_trainer.engine.control import ViewRequest
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.plane import expand_features
from tui_trainer.engine.rundir import VIEW_FILE
from tui_trainer.engine.views import (
    MAX_NEURONS, BoundaryFrame, FitFrame, NetworkFrame, grid_points, read_view, shade_steps,
)
from tui_trainer.pictures import SHADE_STEPS


class Looks(Callback):
    """A view that takes each picture at the epoch's end, as the app's panel does on screen."""

    def __init__(self, request: ViewRequest) -> None:
        self.request = request

    def on_epoch_end(self, event) -> None:
        self.request.take()


def test_the_boundary_grid_is_the_models_prediction_at_the_grid_points(runs_dir):
    request = ViewRequest()
    request.ask(17, 11)
    trainer = Trainer(config("multiclass", task__classes=4, training__epochs=3), runs_dir=runs_dir,
                      view=request)
    trainer.run()
    frame = request.take()
    assert isinstance(frame, BoundaryFrame) and (frame.cols, frame.rows, frame.classes) == (17, 11, 4)
    x_low, x_high, y_low, y_high = frame.extent
    points = grid_points(frame.extent, 17, 11)
    # row 0 is the top of the plane, columns go left to right, cells are square
    assert points[0, 1] > points[-1, 1] and points[0, 0] < points[16, 0]
    assert abs((x_high - x_low) / 17 - (y_high - y_low) / 11) < 1e-6
    samples = torch.cat([trainer.data.x_train, trainer.data.x_val])
    assert x_low < samples[:, 0].min() and samples[:, 0].max() < x_high
    assert y_low < samples[:, 1].min() and samples[:, 1].max() < y_high
    trainer.model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(trainer.model(points), dim=1)
    assert frame.predicted == probabilities.argmax(dim=1).tolist()
    assert torch.allclose(torch.tensor(frame.confidence), probabilities.max(dim=1).values, atol=1e-6)
    # the shade grows with the probability, from 0 (a coin toss between the classes) to the last step
    by_confidence = [step for _, step in sorted(zip(frame.confidence, frame.steps))]
    assert by_confidence == sorted(by_confidence) and 0 <= min(frame.steps) <= max(frame.steps) <= SHADE_STEPS
    assert shade_steps(torch.tensor([0.25, 1.0, math.nan]), 4).tolist() == [0, SHADE_STEPS, 0]
    assert frame.samples.train_label == trainer.data.y_train.tolist()
    assert frame.samples.val_x == trainer.data.x_val[:, 0].tolist()


def test_a_binary_boundary_reads_one_output_as_the_probability_of_class_1(runs_dir):
    request = ViewRequest()
    request.ask(9, 9)
    trainer = Trainer(config("multiclass", task__classes=2, loss__name="bce-logits", lab__wrong_loss=True,
                             training__epochs=2),
                      runs_dir=False, view=request)
    trainer.run()
    frame = request.take()
    trainer.model.eval()
    with torch.no_grad():
        p1 = torch.sigmoid(trainer.model(grid_points(frame.extent, 9, 9)))[:, 0]
    assert frame.predicted == (p1 > 0.5).long().tolist()
    assert torch.allclose(torch.tensor(frame.confidence), torch.maximum(p1, 1 - p1), atol=1e-6)


def test_a_playground_boundary_feeds_the_grid_through_the_chosen_features_and_draws_the_points():
    request = ViewRequest()
    request.ask(12, 8)
    trainer = Trainer(config("xor", task__features=["x1", "x1*x2", "sin(x2)"], training__epochs=2),
                      runs_dir=False, view=request)
    trainer.run()
    frame = request.take()
    points = grid_points(frame.extent, 12, 8)
    trainer.model.eval()
    with torch.no_grad():
        p1 = torch.sigmoid(trainer.model(expand_features(points, ["x1", "x1*x2", "sin(x2)"])))[:, 0]
    assert frame.predicted == (p1 > 0.5).long().tolist()
    # the samples drawn are the 2-D points, not the model's three inputs
    assert frame.samples.train_x == trainer.data.points_train[:, 0].tolist()
    assert frame.samples.train_y == trainer.data.points_train[:, 1].tolist()


def test_the_fit_curve_is_the_models_output_and_w_b_are_the_layers(runs_dir):
    request = ViewRequest()
    request.ask(40, 10)
    trainer = Trainer(config("linear", training__epochs=50), runs_dir=runs_dir, view=request)
    result = trainer.run()
    frame = request.take()
    assert isinstance(frame, FitFrame) and len(frame.xs) == 40 and frame.epoch == 50
    layer = trainer.model[0]
    expected = layer.weight.item() * torch.tensor(frame.xs) + layer.bias.item()
    assert torch.allclose(torch.tensor(frame.ys), expected, atol=1e-5)
    assert frame.parameters == result.parameters
    assert min(frame.xs) < trainer.data.x_train.min() and trainer.data.x_train.max() < max(frame.xs)


def test_a_live_view_leaves_the_run_bit_for_bit_the_same():
    # Dropout draws random numbers at every step: a picture that touched the RNG, left the
    # model in eval mode or changed a weight would change every loss after it.
    settings = dict(model__dropout=0.3, training__epochs=6, training__batch_size=16)
    without = Trainer(config("multiclass", **settings), runs_dir=False)
    plain = without.run()
    request = ViewRequest()
    request.ask(30, 20)
    watched = Trainer(config("multiclass", **settings), [Looks(request)], runs_dir=False, view=request)
    watched.get_ready()
    watched.rules["view"].gap = 0.0  # a picture at every epoch's end
    pictured = watched.run()
    assert request.take() is not None and request.take().epoch == 6
    assert [m.train_loss for m in pictured.history] == [m.train_loss for m in plain.history]
    assert [m.val_loss for m in pictured.history] == [m.val_loss for m in plain.history]
    for a, b in zip(watched.model.state_dict().values(), without.model.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(watched.rng["torch"], without.rng["torch"])


def test_pictures_come_at_most_once_per_epoch_not_faster_than_the_gap_and_only_when_taken():
    request = ViewRequest()
    request.ask(8, 8)
    trainer = Trainer(config("multiclass", training__epochs=5), [Looks(request)], runs_dir=False, view=request)
    trainer.get_ready()
    view = trainer.rules["view"]
    made = []
    frame = view.frame
    view.frame = lambda *args: made.append(args[0]) or frame(*args)
    view.gap = 0.0
    trainer.run()
    assert made == [1, 2, 3, 4, 5, 5]  # each epoch's end, then the run's end
    made.clear()
    request = ViewRequest()
    request.ask(8, 8)
    unseen = Trainer(config("multiclass", training__epochs=5), runs_dir=False, view=request)
    unseen.get_ready()
    view = unseen.rules["view"]
    view.frame = lambda *args: made.append(args[0]) or frame(*args)
    view.gap = 0.0
    unseen.run()
    assert made == [1, 5]  # nobody took the first picture: none until the run's end
    made.clear()
    request = ViewRequest()
    request.ask(8, 8)
    again = Trainer(config("multiclass", training__epochs=5), [Looks(request)], runs_dir=False, view=request)
    again.get_ready()
    view = again.rules["view"]
    view.frame = lambda *args: made.append(args[0]) or frame(*args)
    view.gap = 3600.0
    again.run()
    assert made == [1, 5]  # the first epoch, then nothing within the gap but the run's end


@pytest.mark.filterwarnings("ignore:Using a target size")  # mse on class indices, on purpose
def test_the_run_folder_keeps_the_last_picture_and_tasks_without_one_have_none(runs_dir):
    result = Trainer(config("multiclass", training__epochs=2), runs_dir=runs_dir).run()
    frame = read_view(result.run_dir)
    assert isinstance(frame, BoundaryFrame) and frame.epoch == 2 and frame.cols == frame.rows == 100
    assert len(frame.predicted) == 100 * 100 and set(frame.predicted) <= {0, 1, 2}
    assert json.loads((result.run_dir / VIEW_FILE).read_text())["kind"] == "boundary"
    line = Trainer(config("linear", training__epochs=5), runs_dir=runs_dir).run()
    assert isinstance(read_view(line.run_dir), FitFrame)
    iris = Trainer(config("iris", training__epochs=1), runs_dir=runs_dir).run()
    assert not (iris.run_dir / VIEW_FILE).exists()
    mse = Trainer(config("multiclass", loss__name="mse", lab__wrong_loss=True, training__epochs=1),
                  runs_dir=runs_dir).run()
    assert not (mse.run_dir / VIEW_FILE).exists()  # one value per sample: no class to color by


def test_the_network_picture_holds_the_weights_and_each_neurons_picture_over_the_plane():
    network = ViewRequest()
    network.ask(7, 5)
    cfg = config("xor", task__features=["x1", "x2", "x1*x2"], model__hidden=[4, 3], training__epochs=2)
    trainer = Trainer(cfg, runs_dir=False, network=network)
    trainer.run()
    frame = network.take()
    assert isinstance(frame, NetworkFrame) and (frame.cols, frame.rows, frame.epoch) == (7, 5, 2)
    assert frame.step == trainer.state.global_step
    assert [(c.name, c.size, c.activation) for c in frame.columns] == [
        ("inputs", 3, None), ("hidden 1", 4, "tanh"), ("hidden 2", 3, "tanh"), ("output", 1, "logit")]
    assert frame.columns[0].labels == ["x1", "x2", "x1*x2"]
    model = trainer.model  # Linear, Tanh, Linear, Tanh, Linear
    assert frame.weights == [model[i].weight.tolist() for i in (0, 2, 4)]
    assert frame.biases == [model[i].bias.tolist() for i in (0, 2, 4)]
    assert frame.weight_scale == max(abs(w) for layer in frame.weights for row in layer for w in row)
    # each thumbnail is that neuron's value at the grid's cells, computed here with the model
    inputs = expand_features(grid_points(frame.extent, 7, 5), ["x1", "x2", "x1*x2"])
    model.eval()
    with torch.no_grad():
        hidden1 = model[1](model[0](inputs))
        hidden2 = model[3](model[2](hidden1))
        output = model[4](hidden2)
    for column, values in zip(frame.columns, (inputs, hidden1, hidden2, output)):
        assert torch.allclose(torch.tensor(column.thumbnails), values.T, atol=1e-6)
        assert column.scale == pytest.approx(values.abs().max(dim=0).values.tolist())
        assert len(column.mean) == len(column.dead) == column.size
    samples = trainer.data.x_train[:512]
    with torch.no_grad():
        assert torch.allclose(torch.tensor(frame.columns[1].mean), model[1](model[0](samples)).mean(dim=0), atol=1e-6)


def test_without_a_plane_each_neuron_has_its_mean_and_a_dead_unit_is_marked():
    network = ViewRequest()
    network.ask(4, 4)
    trainer = Trainer(config("iris", model__hidden=[5], training__epochs=1), runs_dir=False, network=network)
    trainer.get_ready()
    with torch.no_grad():  # kill two units: their ReLU outputs are 0 on every sample
        trainer.model[0].bias[[1, 3]] = -1e4
    trainer.run()
    frame = network.take()
    assert frame.extent is None and (frame.cols, frame.rows) == (0, 0)
    assert [c.thumbnails for c in frame.columns] == [None, None, None]
    hidden = frame.columns[1]
    assert hidden.dead == [False, True, False, True, False] and hidden.mean[1] == hidden.mean[3] == 0
    assert frame.columns[0].labels == ["x1", "x2", "x3", "x4"] and frame.columns[2].size == 3
    assert frame.columns[0].dead == [False] * 4 and frame.columns[2].dead == [False] * 3


def test_a_wide_layer_is_cut_to_the_first_neurons_and_says_how_many_it_has():
    network = ViewRequest()
    network.ask(3, 3)
    trainer = Trainer(config("digits", model__hidden=[MAX_NEURONS + 8], training__epochs=1), runs_dir=False,
                      network=network)
    trainer.run()
    frame = network.take()
    assert [(c.size, len(c.mean)) for c in frame.columns] == [(64, MAX_NEURONS), (MAX_NEURONS + 8, MAX_NEURONS),
                                                             (10, 10)]
    assert len(frame.weights[0]) == MAX_NEURONS and len(frame.weights[0][0]) == MAX_NEURONS


def test_only_an_mlp_is_drawn_neuron_by_neuron(mnist_dir):
    assert config("iris").draws_network and not config("rosenbrock").draws_network
    cnn = config("mnist", task__data_dir=str(mnist_dir), task__download=False, model__kind="cnn")
    assert not cnn.draws_network
    network = ViewRequest()
    network.ask(4, 4)
    trainer = Trainer(config("rosenbrock", training__epochs=1), runs_dir=False, network=network)
    trainer.run()
    assert "network" not in trainer.rules and network.take() is None
