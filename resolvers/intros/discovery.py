"""Complementary-partner scoring, as plain functions (see docs/discovery.md).

Inputs are raw signals from the store; what leaves here is safe to show: overlap only as
a bucket and only at k or more, shared partners and co-won deals as counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graph.errors import ConfigurationError
from graph.intros import Candidate, CandidateSignals
from graph.model import Org, OrgType

# Who complements whom (symmetric once parsed). ISVs need hands to deliver and sell
# (SI, MSP, RESELLER); resellers and MSPs serve the same buyers with different motions.
DEFAULT_COMPLEMENTS = "ISV:SI+MSP+RESELLER;RESELLER:MSP"

# (lower bound, label, points); the lowest bucket starts at k.
BUCKETS = ((1000, "1000+", 5), (250, "250-999", 4), (50, "50-249", 3), (10, "10-49", 2))
SMALLEST_BUCKET_POINTS = 1
TYPE_FIT_POINTS = 3
SHARED_PARTNER_POINTS, MAX_SHARED_PARTNERS = 1, 3
CO_WON_POINTS, MAX_CO_WON = 2, 3
REGION_POINTS = 1


def parse_complements(text: str) -> Mapping[OrgType, frozenset[OrgType]]:
    """`ISV:SI+MSP;RESELLER:MSP` -> a symmetric relation over org types."""
    pairs: dict[OrgType, set[OrgType]] = {}
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        head, sep, tail = clause.partition(":")
        try:
            left = OrgType(head.strip().upper())
            rights = [OrgType(t.strip().upper()) for t in tail.split("+") if t.strip()]
        except ValueError as error:
            raise ConfigurationError(f"TANDEM_COMPLEMENTS: {error}") from None
        if not sep or not rights:
            raise ConfigurationError(f"TANDEM_COMPLEMENTS: {clause!r} is not TYPE:TYPE+TYPE")
        for right in rights:
            pairs.setdefault(left, set()).add(right)
            pairs.setdefault(right, set()).add(left)
    return {kind: frozenset(others) for kind, others in pairs.items()}


def overlap_bucket(count: int, k: int) -> tuple[str, int] | None:
    """The bucket label and points for an overlap count; None below k (suppressed)."""
    if count < k:
        return None
    for low, label, points in BUCKETS:
        if count >= low:
            return label, points
    return f"{k}-9", SMALLEST_BUCKET_POINTS


@dataclass(frozen=True, slots=True)
class Suggestion:
    org_id: str
    score: int
    overlap_bucket: str | None  # None: below k, or none at all
    shared_partners: int
    co_won_deals: int
    reasons: tuple[str, ...]


def score(
    me: Org,
    candidate_org: Org,
    candidate: Candidate,
    signals: CandidateSignals,
    *,
    complements: Mapping[OrgType, frozenset[OrgType]],
    k: int,
) -> Suggestion:
    total, reasons = 0, []
    bucket = overlap_bucket(signals.customer_overlap, k)
    if bucket is not None:
        label, points = bucket
        total += points
        reasons.append(f"Shares {label} of your customers (+{points})")
    fits = sorted(
        f"{theirs.value} complements your {mine.value}"
        for mine in me.types
        for theirs in candidate_org.types
        if theirs in complements.get(mine, frozenset())
    )
    if fits:
        total += TYPE_FIT_POINTS
        reasons.append(f"{fits[0]} (+{TYPE_FIT_POINTS})")
    shared = len(candidate.shared_partners)
    if shared:
        points = min(shared, MAX_SHARED_PARTNERS) * SHARED_PARTNER_POINTS
        total += points
        reasons.append(f"Partners with {shared} of your active partners (+{points})")
    if signals.co_won_deals:
        points = min(signals.co_won_deals, MAX_CO_WON) * CO_WON_POINTS
        total += points
        reasons.append(f"Won {signals.co_won_deals} deal(s) alongside you (+{points})")
    if candidate_org.region == me.region:
        total += REGION_POINTS
        reasons.append(f"Works in your region, {me.region} (+{REGION_POINTS})")
    return Suggestion(
        org_id=candidate.org_id,
        score=total,
        overlap_bucket=bucket[0] if bucket else None,
        shared_partners=shared,
        co_won_deals=signals.co_won_deals,
        reasons=tuple(reasons),
    )
