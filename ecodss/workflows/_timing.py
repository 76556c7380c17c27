"""Step timing and progress reporting shared by the workflows."""

from __future__ import annotations

import time


class StepTimer:
    """Call with a step name when the step ends: records its wall time [s] and reports progress."""

    def __init__(self, progress=None):
        self.timings: dict[str, float] = {}
        self._progress = progress
        self._t0 = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._t0, 2)
        self._t0 = now
        if self._progress is not None:
            self._progress(name)
