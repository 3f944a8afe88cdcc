"""A vendor's rules of engagement and its direct-only accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from graph.deals import DealProgram, DealRole
from graph.errors import BadInput
from graph.identity import IdentityStore
from graph.port import GraphStore
from privacy.populations import population_problem
from resolvers import audit
from resolvers.actor import Actor, Permission

T = TypeVar("T")

MAX_EXPIRY_DAYS = 730
MAX_EXTENSION_DAYS = 365
MAX_EXTENSIONS = 10
MAX_DIRECT_ONLY_IDS = 5_000
MAX_POPULATIONS = 50


@dataclass(frozen=True, slots=True)
class ProgramChanges:
    """Fields to change; None keeps the current value. To remove the amount limit of
    auto-approval, set `clear_auto_approve_max_amount`."""

    exclusive_roles: frozenset[DealRole] | None = None
    expiry_days: int | None = None
    extension_days: int | None = None
    max_extensions: int | None = None
    existing_pipeline_blocks: bool | None = None
    auto_approve_roles: frozenset[DealRole] | None = None
    auto_approve_max_amount: Decimal | None = None
    clear_auto_approve_max_amount: bool = False
    direct_only_populations: frozenset[str] | None = None


async def get_program(graph: GraphStore, actor: Actor) -> DealProgram:
    actor.require(Permission.READ)
    return await graph.deal_program(actor.org_id)


async def set_program(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    changes: ProgramChanges,
    *,
    now: datetime,
) -> DealProgram:
    actor.require(Permission.MANAGE_PIPELINE)
    current = await graph.deal_program(actor.org_id)
    program = apply_changes(current, changes, now=now)
    stored = await graph.put_deal_program(program)
    await audit.record(
        identity,
        actor,
        "deal_program.set",
        now=now,
        exclusive_roles=",".join(sorted(stored.exclusive_roles)),
        expiry_days=str(stored.expiry_days),
        auto_approve_roles=",".join(sorted(stored.auto_approve_roles)),
    )
    return stored


def apply_changes(current: DealProgram, changes: ProgramChanges, *, now: datetime) -> DealProgram:
    """The program with `changes` applied, validated: pure, for unit tests."""
    expiry = _pick(changes.expiry_days, current.expiry_days)
    extension = _pick(changes.extension_days, current.extension_days)
    extensions = _pick(changes.max_extensions, current.max_extensions)
    for name, value, low, high in (
        ("expiryDays", expiry, 1, MAX_EXPIRY_DAYS),
        ("extensionDays", extension, 1, MAX_EXTENSION_DAYS),
        ("maxExtensions", extensions, 0, MAX_EXTENSIONS),
    ):
        if not low <= value <= high:
            raise BadInput(f"{name} must be between {low} and {high}", field=name)
    limit = current.auto_approve_max_amount
    if changes.clear_auto_approve_max_amount:
        limit = None
    elif changes.auto_approve_max_amount is not None:
        limit = changes.auto_approve_max_amount
        if not limit.is_finite() or limit < 0:
            raise BadInput(
                "autoApproveMaxAmount must be a non-negative number", field="autoApproveMaxAmount"
            )
    populations = _pick(changes.direct_only_populations, current.direct_only_populations)
    if len(populations) > MAX_POPULATIONS:
        raise BadInput(
            f"at most {MAX_POPULATIONS} direct-only populations", field="directOnlyPopulations"
        )
    for population in populations:
        if problem := population_problem(population):
            raise BadInput(f"population {problem}", field="directOnlyPopulations")
    return DealProgram(
        vendor_org=current.vendor_org,
        exclusive_roles=_pick(changes.exclusive_roles, current.exclusive_roles),
        expiry_days=expiry,
        extension_days=extension,
        max_extensions=extensions,
        existing_pipeline_blocks=_pick(
            changes.existing_pipeline_blocks, current.existing_pipeline_blocks
        ),
        auto_approve_roles=_pick(changes.auto_approve_roles, current.auto_approve_roles),
        auto_approve_max_amount=limit,
        direct_only_populations=populations,
        updated_at=now,
    )


async def set_direct_only(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    account_ids: Sequence[str],
    *,
    direct_only: bool,
    now: datetime,
) -> list[str]:
    """Mark the org's accounts as sold direct only (partners' registrations on them are
    REJECTED with DIRECT_ONLY), or unmark them. Returns the accounts changed."""
    actor.require(Permission.MANAGE_PIPELINE)
    if len(account_ids) > MAX_DIRECT_ONLY_IDS:
        raise BadInput(f"at most {MAX_DIRECT_ONLY_IDS} accounts per call", field="accountIds")
    changed = await graph.set_direct_only(
        actor.org_id, list(dict.fromkeys(account_ids)), direct_only
    )
    await audit.record(
        identity,
        actor,
        "accounts.direct_only",
        now=now,
        direct_only=str(direct_only).lower(),
        accounts=str(len(changed)),
    )
    return changed


def _pick(value: T | None, current: T) -> T:
    return current if value is None else value
