"""Key rotation: re-wrap every stored key hash to the next key version, in batches.

Resumable: the store keeps the rotation's cursor, so an interrupted run picks up where
it stopped. Overlaps stay correct throughout: a batch re-wraps a key for every org that
holds it at once, and writes during the rotation land on the same side of the cursor
as the keys they match (GraphStore.upsert_accounts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graph.errors import ConfigurationError, Conflict
from graph.model import KeyState
from graph.port import GraphStore
from privacy.keyring import Keyring

DEFAULT_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class RotationReport:
    from_version: int
    to_version: int
    rewrapped: int


async def rotate(
    graph: GraphStore,
    keyring: Keyring,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> RotationReport | None:
    """Rotate to the next version the keyring holds; None when already at the newest."""
    state = await graph.key_state()
    target = state.target_version or state.active_version + 1
    if state.target_version is None and state.active_version >= keyring.newest:
        return None
    if target > keyring.newest:
        raise ConfigurationError(f"the keyring has no key version {target}")
    await graph.start_rotation(target)
    rewrapped = 0
    while True:
        while batch := await graph.keys_to_rotate(first=batch_size):
            pairs = [(h, keyring.rewrap(h, target)) for h in batch]
            count = await graph.rewrap_keys(pairs, cursor=batch[-1])
            rewrapped += count
            if on_batch is not None:
                on_batch(count)
        try:
            final: KeyState = await graph.finish_rotation()
        except Conflict:
            continue  # an import wrote keys past the cursor meanwhile: sweep again
        return RotationReport(final.active_version - 1, final.active_version, rewrapped)
