"""Several processes, one run: torchrun's environment, DistributedDataParallel, and the sharding
that makes a run the same whatever the number of ranks.

Each global batch is the one a single process takes; rank r trains on its r-th share of it
(``torch.tensor_split``). DDP averages the ranks' gradients, so a share that is not exactly
1/W of the batch has its loss scaled by ``share * W / batch``: the averaged gradient is then the
gradient of the whole batch's mean loss (``rules.batch_share``). Sums (losses, correct predictions)
are all-reduced.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from tui_trainer.launch import world_size

#: How long a collective waits for the other ranks before the run fails (never a hang).
COLLECTIVE_TIMEOUT = datetime.timedelta(seconds=120)


@dataclass
class Ranks:
    """This process's place among torchrun's ranks, with the process group initialised."""

    rank: int
    world: int
    local_rank: int
    backend: str

    @classmethod
    def start(cls, backend: str, device_type: str) -> Ranks | None:
        """Join torchrun's process group (None when not under torchrun). ``backend`` auto picks
        nccl for CUDA, else gloo."""
        world = world_size()
        if world < 2:
            return None
        if backend == "auto":
            backend = "nccl" if device_type == "cuda" else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), backend)

    def device(self, device: torch.device) -> torch.device:
        """Each rank on its own GPU (``LOCAL_RANK``); the CPU is shared."""
        return torch.device("cuda", self.local_rank) if device.type == "cuda" else device

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``values`` over the ranks."""
        values = values.clone()
        dist.all_reduce(values)
        return values

    def agree(self, stop: bool, next_report: int) -> tuple[bool, int]:
        """One collective at each report: stop if any rank was asked to; report next at the
        earliest step any rank wants."""
        votes = torch.tensor([-float(stop), float(next_report)], dtype=torch.float64)
        dist.all_reduce(votes, op=dist.ReduceOp.MIN)
        return bool(votes[0] < 0), int(votes[1])

    def close(self) -> None:
        """Leave the process group."""
        if dist.is_initialized():
            dist.destroy_process_group()
