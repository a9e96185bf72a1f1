"""What a figure was measured with: the machine, the CPU kernels torch runs and the versions of every library
that can move a trained model's numbers, so that a result file can be traced to its environment."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from .version import __version__

# Libraries whose versions move sani's figures: the model maths (torch, transformers, accelerate, peft), the
# fixtures' vocabularies (tokenizers), the synthetic corpora (faker), the data pipeline (datasets, numpy).
LIBRARIES = ("torch", "transformers", "accelerate", "tokenizers", "datasets", "safetensors", "numpy", "faker", "peft")


def versions() -> dict[str, str]:
    """sani's, Python's and each installed library's version (an absent optional one is left out)."""
    found = {"sani": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def record() -> dict[str, Any]:
    """The machine a benchmark ran on: architecture, device, torch's threads and CPU kernels, and `versions()`."""
    import torch

    return {
        "machine": platform.machine(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU",
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        **versions(),
    }


def describe() -> str:
    """`record()` on one line, for a benchmark's printed header."""
    return ", ".join(f"{k} {v}" for k, v in record().items())
