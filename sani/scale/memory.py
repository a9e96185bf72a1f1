"""Peak memory of a block of work, for the benchmark's cost columns."""

from __future__ import annotations

import threading
from typing import Any

import torch


class PeakMemory:
    """Peak memory (MiB) the block adds to what was held when it started: CUDA's allocator peak on a GPU,
    else the process's resident set sampled every 20 ms (Linux; memory freed earlier and reused is not
    counted, so CPU figures are a lower bound)."""

    def __enter__(self) -> PeakMemory:
        self.peak = 0.0
        self._stop = threading.Event()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated() / 2**20
        else:
            self._base = self._rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _rss(self) -> float:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096 / 2**20
        except OSError:
            return 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.02)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if torch.cuda.is_available():
            self.peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            self._thread.join()
            self.peak = max(self.peak, self._rss())
        self.peak = max(0.0, self.peak - self._base)  # what the block added, not what was already held
