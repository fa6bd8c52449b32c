"""tui-trainer: a terminal playground for PyTorch training."""

__version__ = "0.1.0"
