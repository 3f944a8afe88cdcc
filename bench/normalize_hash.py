"""Normalize + hash throughput (keys/s), against plain HMAC over pre-normalized strings
measured in the same run.

    .venv/bin/python -m bench.normalize_hash [--keys 200000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import time

from graph.model import KeyKind
from privacy.keyring import Keyring
from privacy.normalize import normalize_domain, normalize_duns, normalize_name
from seed.accounts import company


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=200_000)
    args = parser.parse_args()
    firms = [company(7, i) for i in range(args.keys // 2)]
    raw_domains = [f"https://www.{f.domain}/about?x=1" for f in firms] + [
        f"Sales@{f.domain.upper()}" for f in firms
    ]
    raw_names = [f.name for f in firms]
    numbers = [f"{100_000_000 + i * 7919 % 899_999_999:09d}" for i in range(len(firms))]
    raw_duns = [f"{n[:2]}-{n[2:5]}-{n[5:]}" for n in numbers]
    ring = Keyring.from_secrets({1: b"s" * 32})

    canonical = [normalize_domain(d) for d in raw_domains]
    key = ring.keys[0]
    baseline = _rate(
        len(canonical),
        lambda: [
            hmac.new(key, f"DOMAIN:{c}".encode(), hashlib.sha256).hexdigest() for c in canonical
        ],
    )
    domains = _rate(
        len(raw_domains),
        lambda: [ring.hash(KeyKind.DOMAIN, normalize_domain(d), 1) for d in raw_domains],
    )
    names = _rate(
        len(raw_names), lambda: [ring.hash(KeyKind.NAME, normalize_name(n), 1) for n in raw_names]
    )
    duns = _rate(
        len(raw_duns), lambda: [ring.hash(KeyKind.DUNS, normalize_duns(d), 1) for d in raw_duns]
    )
    print(f"baseline hmac over canonical domains: {baseline:>10,.0f} keys/s")
    for label, rate in (("domains", domains), ("names", names), ("duns", duns)):
        print(
            f"normalize + hash {label:<8}: {rate:>10,.0f} keys/s  ({baseline / rate:.1f}x slower)"
        )


def _rate(count: int, work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return count / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
