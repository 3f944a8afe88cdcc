"""Plain records for influence: touches, and the paths they form to an opportunity."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class TouchKind(enum.StrEnum):
    REFERRAL = "REFERRAL"
    INTRO = "INTRO"
    CO_SELL_MEETING = "CO_SELL_MEETING"
    TECHNICAL_WIN = "TECHNICAL_WIN"
    INTEGRATION = "INTEGRATION"
    EVENT = "EVENT"
    CONTENT = "CONTENT"
    DEAL_REGISTRATION = "DEAL_REGISTRATION"


class TouchStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"  # recorded by the vendor, or confirmed by it
    PENDING = "PENDING"  # recorded by the partner, awaiting the vendor
    REJECTED = "REJECTED"  # the vendor did not confirm it


@dataclass(frozen=True, slots=True)
class Touch:
    """A partner's influence on one of the vendor's accounts or opportunities."""

    id: str
    vendor_org: str
    partner_org: str
    external_id: str  # idempotency key, unique per (vendor, recorded_by org)
    kind: TouchKind
    at: datetime
    weight: Decimal  # 1 unless given; models that use weights scale by it
    account_id: str  # the vendor's account
    opportunity_id: str | None
    status: TouchStatus
    recorded_by: str  # org id: the vendor, or the partner itself
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of an influence path. `partner_org` acted on `target_org` (an
    introduction or referral between partners) or, on the last step, on the deal."""

    partner_org: str
    kind: TouchKind
    at: datetime
    weight: Decimal
    target_org: str | None = None  # None: the step touches the opportunity or its account


@dataclass(frozen=True, slots=True)
class InfluencePath:
    """A chain from the partner it credits (steps[0].partner_org) to the opportunity:
    hops = len(steps) - 1 (0 for a direct touch)."""

    steps: tuple[PathStep, ...]

    @property
    def origin(self) -> str:
        return self.steps[0].partner_org

    @property
    def hops(self) -> int:
        return len(self.steps) - 1
