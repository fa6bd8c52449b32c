"""The resources line: the GPU's memory (and NVML's figures) on CUDA, threads and memory on the CPU."""

from __future__ import annotations

import pytest
import torch

from tui_trainer.engine.resources import Resources, process_memory, sample


def test_cpu_sample_says_threads_and_the_process_memory():
    now = sample("cpu")
    assert now.threads == torch.get_num_threads() and now.total is None
    assert now.process_memory == process_memory() or abs(now.process_memory - process_memory()) < 2**26
    assert now.process_memory > 50 * 2**20  # torch alone takes more than this
    assert now.describe().startswith(f"CPU ×{now.threads} · ")
    assert "MiB" in now.describe()
    assert sample("cpu", threads=3).describe().startswith("CPU ×3 · ")  # the run's count, asked from the UI


def test_gpu_line_names_memory_and_what_nvml_adds():
    line = Resources("cuda:0", 1, None, allocated=2**30, reserved=2 * 2**30, total=80 * 2**30,
                     utilization=45, temperature=61).describe()
    assert line == "GPU 1.0/2.0 of 80.0 GiB · 45% · 61°C"
    assert Resources("cuda:0", 1, None, 0, 0, 2**30).describe() == "GPU 0.0/0.0 of 1.0 GiB"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_sample_reads_torch_cuda_memory():
    now = sample("cuda:0")
    assert now.total == torch.cuda.get_device_properties(0).total_memory
