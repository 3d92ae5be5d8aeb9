"""The shared benchmark harness: time a candidate and its baseline in the same run, print both.

Timings are wall-clock, best-of and percentiles over repeated runs; the ratio is
``baseline / candidate`` (above 1 means the candidate is faster).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    name: str
    samples: list[float]

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]

    def line(self) -> str:
        return (
            f"{self.name:42} best {self.best * 1000:9.2f} ms   median "
            f"{self.median * 1000:9.2f} ms   p95 {self.p95 * 1000:9.2f} ms   n={len(self.samples)}"
        )


def measure(name: str, action: Callable[[], object], repeat: int = 20, warmup: int = 2) -> Timing:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return Timing(name, samples)


def load_average() -> float:
    """The machine's 1-minute load average, for a bench that samples it around its own runs."""
    return os.getloadavg()[0]


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``: user, nice,
    system, irq, softirq; not idle, waiting for disks or stolen by the hypervisor), or None where
    there is no ``/proc``. Read around a command, it counts what the command made *every*
    process do, its database server included, which a child's ``getrusage`` does not."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    """The machine's cores and load beside the figures: on a shared machine, a run's figures
    mean little without what else was running. Every ``bench/*.py`` with a ``main`` prints it
    (``tests/test_benchmarks_run.py`` checks that they do)."""
    one, five, fifteen = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / {fifteen:.2f} "
        "(1 / 5 / 15 min)"
    )


def report(title: str, candidate: Timing, baseline: Timing, goal: float | None = None) -> float:
    """Print both timings and the speed-up; returns the ratio (baseline median / candidate)."""
    ratio = baseline.median / candidate.median
    print(f"== {title}")
    print(machine())
    print(candidate.line())
    print(baseline.line())
    verdict = ""
    if goal is not None:
        verdict = "  (goal ≥ {:.1f}×: {})".format(goal, "met" if ratio >= goal else "NOT met")
    print(f"ratio vs baseline ({baseline.name}): {ratio:.2f}×{verdict}")
    return ratio
