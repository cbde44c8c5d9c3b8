"""Timing variants against each other on a noisy machine: rounds interleaved, medians.

The machines these benchmarks run on are shared, and their speed drifts by tens of percent
within minutes. Running every variant once per round, round after round, lets that drift fall
on all of them alike; the medians of wall-clock time and of the process's CPU time (both
threads) then compare fairly.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Callable


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the process) of one call."""
    c0, t0 = os.times(), time.perf_counter()
    run()
    wall, c1 = time.perf_counter() - t0, os.times()
    return wall, (c1.user + c1.system) - (c0.user + c0.system)


def interleaved_medians(
    variants: dict[str, Callable[[], object]], rounds: int, pause_seconds: float = 0.0
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each variant over `rounds` interleaved rounds; each run
    after an untimed pause of `pause_seconds` (for threads the previous run left spinning)."""
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    for _ in range(rounds):
        for label, run in variants.items():
            time.sleep(pause_seconds)
            runs[label].append(timed(run))
    return {
        label: (statistics.median(w for w, _ in times), statistics.median(c for _, c in times))
        for label, times in runs.items()
    }
