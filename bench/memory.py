"""Peak resident memory of this process while a block runs (sampled from /proc)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    def __init__(self) -> None:
        self.start = rss_mib()
        self.peak = self.start


@contextmanager
def peak_rss(interval_s: float = 0.2) -> Iterator[PeakRss]:
    result = PeakRss()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval_s):
            result.peak = max(result.peak, rss_mib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result.peak = max(result.peak, rss_mib())
