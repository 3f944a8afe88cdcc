"""Identifiers: ULIDs, so ids sort by creation time in every store.

Within one millisecond, plain ULIDs are random, so two records made in the same
millisecond could list in either order. The generator here is monotonic per process:
a second id in the same millisecond is the previous one plus one.
"""

from __future__ import annotations

import threading

from ulid import ULID

_lock = threading.Lock()
_last = 0


def new_id() -> str:
    global _last
    with _lock:
        candidate = int.from_bytes(ULID().bytes, "big")
        if candidate <= _last:  # same millisecond (or a clock step back)
            candidate = _last + 1
        _last = candidate
    return str(ULID.from_int(candidate))
