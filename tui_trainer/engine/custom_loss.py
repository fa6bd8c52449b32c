"""Tutorial 001's custom loss, kept as the tutorial writes it."""

import torch
import torch.nn as nn


class CustomLoss(nn.Module):
    """Mean absolute difference between prediction and target (tutorial 001's CustomLoss)."""

    def forward(self, predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        return torch.abs(predicted - actual).mean()
