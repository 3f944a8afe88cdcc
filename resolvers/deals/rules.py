"""The rules of engagement for deal registration, as plain functions.

Nothing here does I/O. The service gathers the facts (is the account direct-only, does
the vendor have pipeline on it, did we have to create a prospect), these functions
decide, and the store enforces what only it can: that one claim key is held by at most
one live registration (DUPLICATE is decided there, first-in by server time).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from graph.deals import (
    Credit,
    DealProgram,
    DealReason,
    DealRegistration,
    DealRole,
    DealStatus,
    OpportunityStatus,
)
from graph.errors import IllegalTransition

MAX_PRODUCT_LINE = 100


class DealAction(enum.StrEnum):
    APPROVE = "APPROVE"  # vendor
    REJECT = "REJECT"  # vendor
    EXTEND = "EXTEND"  # vendor
    WITHDRAW = "WITHDRAW"  # partner
    EXPIRE = "EXPIRE"  # server, when an approval's time is up
    WIN = "WIN"  # server, when the opportunity closes won
    LOSE = "LOSE"  # server, when the opportunity closes lost
    CLOSE_UNREVIEWED = "CLOSE_UNREVIEWED"  # server, opportunity closed while under review


# Every legal move; anything else is an IllegalTransition.
TRANSITIONS: Mapping[tuple[DealStatus, DealAction], DealStatus] = {
    (DealStatus.PENDING_REVIEW, DealAction.APPROVE): DealStatus.APPROVED,
    (DealStatus.PENDING_REVIEW, DealAction.REJECT): DealStatus.REJECTED,
    (DealStatus.PENDING_REVIEW, DealAction.WITHDRAW): DealStatus.WITHDRAWN,
    (DealStatus.PENDING_REVIEW, DealAction.CLOSE_UNREVIEWED): DealStatus.REJECTED,
    (DealStatus.APPROVED, DealAction.EXTEND): DealStatus.APPROVED,
    (DealStatus.APPROVED, DealAction.WITHDRAW): DealStatus.WITHDRAWN,
    (DealStatus.APPROVED, DealAction.EXPIRE): DealStatus.EXPIRED,
    (DealStatus.APPROVED, DealAction.WIN): DealStatus.WON,
    (DealStatus.APPROVED, DealAction.LOSE): DealStatus.LOST,
}

# What closing an opportunity does to the registrations on it (see settle_registrations).
CLOSE_OUTCOMES: Mapping[OpportunityStatus, Mapping[DealStatus, DealStatus]] = {
    OpportunityStatus.WON: {
        DealStatus.APPROVED: TRANSITIONS[(DealStatus.APPROVED, DealAction.WIN)],
        DealStatus.PENDING_REVIEW: TRANSITIONS[
            (DealStatus.PENDING_REVIEW, DealAction.CLOSE_UNREVIEWED)
        ],
    },
    OpportunityStatus.LOST: {
        DealStatus.APPROVED: TRANSITIONS[(DealStatus.APPROVED, DealAction.LOSE)],
        DealStatus.PENDING_REVIEW: TRANSITIONS[
            (DealStatus.PENDING_REVIEW, DealAction.CLOSE_UNREVIEWED)
        ],
    },
}


def next_status(current: DealStatus, action: DealAction) -> DealStatus:
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise IllegalTransition(
            f"a {current.value} registration cannot be {_PAST[action]}", field="id"
        ) from None


_PAST = {
    DealAction.APPROVE: "approved",
    DealAction.REJECT: "rejected",
    DealAction.EXTEND: "extended",
    DealAction.WITHDRAW: "withdrawn",
    DealAction.EXPIRE: "expired",
    DealAction.WIN: "won",
    DealAction.LOSE: "lost",
    DealAction.CLOSE_UNREVIEWED: "closed unreviewed",
}


def effective_status(registration: DealRegistration, now: datetime) -> DealStatus:
    """The status as of `now`: an approval whose time is up reads as EXPIRED even before
    the background task has written it, so a stopped server never shows a stale claim."""
    if (
        registration.status is DealStatus.APPROVED
        and registration.expires_at is not None
        and registration.expires_at <= now
    ):
        return DealStatus.EXPIRED
    return registration.status


def as_of(registration: DealRegistration, now: datetime) -> DealRegistration:
    status = effective_status(registration, now)
    return registration if status is registration.status else replace(registration, status=status)


def canonical_product_line(raw: str | None) -> str:
    """Product lines match case- and width-insensitively; blank means the whole vendor."""
    if raw is None:
        return ""
    return " ".join(unicodedata.normalize("NFKC", raw).casefold().split())


def is_exclusive(role: DealRole, program: DealProgram) -> bool:
    return role in program.exclusive_roles


def claim_key(
    *,
    vendor_org: str,
    account_id: str,
    product_line: str,
    role: DealRole,
    partner_org: str,
    program: DealProgram,
) -> str:
    """Exclusive roles share one slot per (vendor, account, product line): first in wins.
    Other roles co-register, but one partner holds one live claim per role there."""
    if is_exclusive(role, program):
        return f"x|{vendor_org}|{account_id}|{product_line}"
    return f"c|{vendor_org}|{account_id}|{product_line}|{partner_org}|{role.value}"


@dataclass(frozen=True, slots=True)
class RegistrationFacts:
    role: DealRole
    amount: Decimal
    direct_only: bool  # the account or one of its populations is direct-only
    existing_pipeline: bool  # an OPEN vendor opportunity created before registering
    new_prospect: bool  # the vendor did not know the account; a prospect was created


@dataclass(frozen=True, slots=True)
class Verdict:
    status: DealStatus
    reasons: tuple[DealReason, ...]
    credit: Credit


def check_registration(facts: RegistrationFacts, program: DealProgram) -> Verdict:
    """The automatic checks, in order. DUPLICATE is not here: the store decides it
    atomically when it takes the claim (a live claim held first turns a live verdict
    into REJECTED with DUPLICATE)."""
    reasons: list[DealReason] = []
    if facts.new_prospect:
        reasons.append(DealReason.NEW_PROSPECT)
    if facts.direct_only:
        reasons.append(DealReason.DIRECT_ONLY)
        return Verdict(DealStatus.REJECTED, tuple(reasons), Credit.SOURCED)
    if facts.existing_pipeline:
        reasons.append(DealReason.EXISTING_PIPELINE)
        blocked = program.existing_pipeline_blocks
        status = DealStatus.REJECTED if blocked else DealStatus.PENDING_REVIEW
        return Verdict(status, tuple(reasons), Credit.INFLUENCED)
    if auto_approves(facts, program):
        reasons.append(DealReason.AUTO_APPROVED)
        return Verdict(DealStatus.APPROVED, tuple(reasons), Credit.SOURCED)
    return Verdict(DealStatus.PENDING_REVIEW, tuple(reasons), Credit.SOURCED)


def auto_approves(facts: RegistrationFacts, program: DealProgram) -> bool:
    if facts.role not in program.auto_approve_roles:
        return False
    limit = program.auto_approve_max_amount
    return limit is None or facts.amount <= limit


def approval_expiry(program: DealProgram, approved_at: datetime) -> datetime:
    return approved_at + timedelta(days=program.expiry_days)


def extended_expiry(
    registration: DealRegistration, program: DealProgram, now: datetime
) -> datetime:
    """One more extension: from the later of now and the current expiry. Bounded."""
    if registration.extensions >= program.max_extensions:
        raise IllegalTransition(
            f"this registration was already extended {registration.extensions} times, "
            f"the program's limit",
            field="id",
        )
    start = max(now, registration.expires_at or now)
    return start + timedelta(days=program.extension_days)


def visible_reasons(registration: DealRegistration, *, as_vendor: bool) -> tuple[DealReason, ...]:
    """Partners do not see NEW_PROSPECT: it would tell them whether the vendor already
    had the account, one registration per guess."""
    if as_vendor:
        return registration.reasons
    return tuple(r for r in registration.reasons if r is not DealReason.NEW_PROSPECT)
