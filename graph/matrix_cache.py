"""An in-process, size-bounded cache of overlap matrices, kept fresh by version checks.

Each org carries an `accounts_version` that every account write (upsert, delete) bumps
in the same transaction. A matrix is cached under (my org, partner org, key kinds)
together with both orgs' versions as read *before* the matrix was computed, in the same
read transaction; a read serves the cached cells only when both versions are unchanged.
A write that lands between the version read and the matrix read leaves a matrix newer
than its versions, which the next read simply recomputes: a cached matrix is never older
than the versions it is stored under. Each API process has its own cache and checks the
versions on every read, so several processes stay correct without talking to each other.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from graph.model import KeyKind, OverlapCell

DEFAULT_SIZE = 1024

Key = tuple[str, str, tuple[str, ...]]
Versions = tuple[int, int]


class MatrixCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[Key, tuple[Versions, list[OverlapCell]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(acting_org: str, partner_org: str, kinds: Sequence[KeyKind]) -> Key:
        return acting_org, partner_org, tuple(sorted({str(k) for k in kinds}))

    def get(self, key: Key, versions: Versions) -> list[OverlapCell] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != versions:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return list(entry[1])

    def put(self, key: Key, versions: Versions, cells: list[OverlapCell]) -> None:
        if self._size <= 0:
            return
        self._entries[key] = (versions, list(cells))
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
