"""Attribution models alone (pure functions, no store): LINEAR and SHAPLEY over many
synthetic won deals, at 1x and 10x touches per deal with the same partners per deal.

    .venv/bin/python -m bench.attribution_models [--deals 100000] [--partners 200]

Each deal has 1-4 partners; at 1x they make 1-4 touches (about 2.5 a deal), at 10x ten
times as many, 1 in 5 reaching the deal through one intermediary (one hop). SHAPLEY
reads a History of the same deals (half of them won), built once and timed separately.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from graph.touches import InfluencePath, PathStep, TouchKind
from resolvers.attribution import AttributionModel, ClosedDeal, History, attribute

CLOSE = datetime(2025, 6, 30, tzinfo=UTC)
KINDS = list(TouchKind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=200)
    args = parser.parse_args()
    partners = [f"partner-{i:04d}" for i in range(args.partners)]
    print(f"{'model':<8} {'touches':>7} {'deals':>8} {'touches':>10} {'seconds':>8} {'deals/s':>9}")
    for scale in (1, 10):
        deals = _deals(random.Random(scale), partners, args.deals, scale)
        touches = sum(len(paths) for paths in deals)
        start = time.perf_counter()
        history = History(
            ClosedDeal(tuple(sorted({p.origin for p in paths})), i % 2 == 0)
            for i, paths in enumerate(deals)
        )
        _ = history.win_rates
        built = time.perf_counter() - start
        print(f"{'history':<8} {f'{scale}x':>7} {len(deals):>8,} {touches:>10,} {built:>8.2f}")
        for model in (AttributionModel.LINEAR, AttributionModel.SHAPLEY):
            start = time.perf_counter()
            _run(model, deals, history)
            seconds = time.perf_counter() - start
            print(
                f"{model.value:<8} {f'{scale}x':>7} {len(deals):>8,} {touches:>10,} "
                f"{seconds:>8.2f} {len(deals) / seconds:>9,.0f}"
            )


def _deals(
    rng: random.Random, partners: list[str], count: int, scale: int
) -> list[list[InfluencePath]]:
    deals = []
    for _ in range(count):
        involved = rng.sample(partners, rng.randint(1, 4))
        paths = []
        for _ in range(scale * rng.randint(len(involved), 4)):
            who = rng.choice(involved)
            at = CLOSE - timedelta(days=rng.uniform(0, 400))
            first = PathStep(who, rng.choice(KINDS), at, Decimal(1))
            if rng.random() < 0.2:
                via = rng.choice(partners)
                hop = PathStep(via, TouchKind.DEAL_REGISTRATION, at, Decimal(1))
                paths.append(InfluencePath((first, hop)))
            else:
                paths.append(InfluencePath((first,)))
        deals.append(paths)
    return deals


def _run(model: AttributionModel, deals: list[list[InfluencePath]], history: History) -> None:
    for paths in deals:
        attribute(
            model,
            amount=Decimal("12345.67"),
            currency="USD",
            close_at=CLOSE,
            paths=paths,
            history=history,
        )


if __name__ == "__main__":
    main()
