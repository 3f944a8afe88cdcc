"""One entry point per key kind, and an account's raw keys to its canonical keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from graph.model import KeyKind

from .domains import normalize_domain
from .duns import normalize_duns
from .errors import KeyRejected
from .names import normalize_name

_NORMALIZERS: dict[KeyKind, Callable[[str], str]] = {
    KeyKind.DOMAIN: normalize_domain,
    KeyKind.DUNS: normalize_duns,
    KeyKind.NAME: normalize_name,
}


def normalize_key(kind: KeyKind, raw: str) -> str:
    """The canonical form of a raw key of `kind`, or KeyRejected."""
    return _NORMALIZERS[kind](raw)


def canonical_keys(
    domains: Iterable[str],
    duns: Iterable[str],
    names: Iterable[str],
    *,
    names_enabled: bool,
) -> tuple[list[tuple[KeyKind, str]], list[KeyRejected]]:
    """An account's distinct canonical keys, and the raw keys that were refused.

    Keys come out domains first, then DUNS, then names, each in first-seen order, so the
    same input always gives the same list. Names are weak keys: with `names_enabled`
    off they are neither normalized nor reported.
    """
    by_kind: list[tuple[KeyKind, Iterable[str]]] = [
        (KeyKind.DOMAIN, domains),
        (KeyKind.DUNS, duns),
    ]
    if names_enabled:
        by_kind.append((KeyKind.NAME, names))
    keys: dict[tuple[KeyKind, str], None] = {}
    rejected: list[KeyRejected] = []
    for kind, raws in by_kind:
        for raw in raws:
            try:
                keys[(kind, normalize_key(kind, raw))] = None
            except KeyRejected as rejection:
                rejected.append(rejection)
    return list(keys), rejected
