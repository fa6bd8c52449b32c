"""MNIST through torchvision's real code path, from tiny IDX files; clear words when files are missing."""

import pytest
import torch

from helpers import config
from tui_trainer.engine.data import build_dataset
from tui_trainer.engine.loop import train
from tui_trainer.errors import UserFacingError


def test_mnist_tensors_equal_torchvision_totensor_normalize(mnist_dir):
    from torchvision import datasets, transforms

    cfg = config("mnist", task__data_dir=str(mnist_dir), task__download=False, training__val_split=0.0)
    data = build_dataset(cfg)
    reference = datasets.MNIST(str(mnist_dir), train=True, download=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    assert data.x_train.shape == (200, 784)
    by_item = torch.stack([reference[i][0].flatten() for i in range(200)])
    labels = torch.tensor([reference[i][1] for i in range(200)])
    order = torch.randperm(200, generator=torch.Generator().manual_seed(cfg.training.seed))
    assert torch.equal(data.x_train, by_item[order])
    assert torch.equal(data.y_train, labels[order])


def test_mnist_mlp_learns_the_tiny_dataset(mnist_dir, runs_dir):
    cfg = config("mnist", task__data_dir=str(mnist_dir), task__download=False, training__epochs=5)
    result = train(cfg, runs_dir=runs_dir)
    assert result.param_count == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert result.final.val_accuracy >= 0.9


def test_limit_uses_the_first_images(mnist_dir):
    cfg = config("mnist", task__data_dir=str(mnist_dir), task__download=False, task__limit=50,
                 training__val_split=0.2)
    data = build_dataset(cfg)
    assert (len(data.x_train), len(data.x_val)) == (40, 10)


def test_missing_files_name_the_folder_and_the_four_files(tmp_path):
    cfg = config("fashion-mnist", task__data_dir=str(tmp_path / "empty"), task__download=False)
    with pytest.raises(UserFacingError) as info:
        build_dataset(cfg)
    message = str(info.value)
    assert str(tmp_path / "empty" / "FashionMNIST" / "raw") in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        assert name in message
    assert "download is off" in message and "--data-dir" in message


def test_default_data_folder_is_in_the_user_data_directory(tmp_path):
    cfg = config("mnist", task__download=False)
    with pytest.raises(UserFacingError, match=str(tmp_path / "xdg-data" / "tui-trainer" / "data")):
        build_dataset(cfg)
