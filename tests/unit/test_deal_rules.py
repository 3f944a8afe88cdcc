"""The rules of engagement, table by table: every transition (legal or not), every check
of a registration, claim keys, product lines, expiry, extensions and what partners see.

The expected tables are written out here from the issue, not read from the module, so a
change to a rule shows up as a failing row rather than passing silently.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from graph.deals import (
    Credit,
    DealProgram,
    DealReason,
    DealRegistration,
    DealRole,
    DealStatus,
    OpportunityStatus,
)
from graph.errors import Conflict, IllegalTransition
from resolvers.deals.rules import (
    CLOSE_OUTCOMES,
    TRANSITIONS,
    DealAction,
    RegistrationFacts,
    Verdict,
    approval_expiry,
    as_of,
    auto_approves,
    canonical_product_line,
    check_registration,
    claim_key,
    effective_status,
    extended_expiry,
    is_exclusive,
    next_status,
    visible_reasons,
)
from tests.factories import at

S = DealStatus
A = DealAction
VENDOR, P1, P2, ACCOUNT = "vendor", "partner-1", "partner-2", "account-1"
DEFAULTS = DealProgram(VENDOR)

# --- transitions ----------------------------------------------------------------------

LEGAL: dict[tuple[DealStatus, DealAction], DealStatus] = {
    (S.PENDING_REVIEW, A.APPROVE): S.APPROVED,
    (S.PENDING_REVIEW, A.REJECT): S.REJECTED,
    (S.PENDING_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.PENDING_REVIEW, A.CLOSE_UNREVIEWED): S.REJECTED,
    (S.APPROVED, A.EXTEND): S.APPROVED,
    (S.APPROVED, A.WITHDRAW): S.WITHDRAWN,
    (S.APPROVED, A.EXPIRE): S.EXPIRED,
    (S.APPROVED, A.WIN): S.WON,
    (S.APPROVED, A.LOSE): S.LOST,
}
ILLEGAL = [pair for pair in itertools.product(DealStatus, DealAction) if pair not in LEGAL]
TERMINAL = (S.REJECTED, S.WON, S.LOST, S.EXPIRED, S.WITHDRAWN)


def test_the_module_table_is_the_issue_table() -> None:
    assert dict(TRANSITIONS) == LEGAL
    assert len(LEGAL) + len(ILLEGAL) == len(DealStatus) * len(DealAction)


@pytest.mark.parametrize(("current", "action"), list(LEGAL), ids=lambda v: str(v))
def test_legal_transition_gives_its_target(current: DealStatus, action: DealAction) -> None:
    assert next_status(current, action) is LEGAL[(current, action)]


@pytest.mark.parametrize(("current", "action"), ILLEGAL, ids=lambda v: str(v))
def test_illegal_transition_is_a_typed_error(current: DealStatus, action: DealAction) -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_status(current, action)
    error = caught.value
    assert isinstance(error, Conflict)  # the API maps it like any conflict, with its own code
    assert error.code == "ILLEGAL_TRANSITION"
    assert error.field == "id"
    assert current.value in error.message


@pytest.mark.parametrize("status", TERMINAL)
def test_terminal_statuses_have_no_way_out(status: DealStatus) -> None:
    assert not status.is_live
    assert not [action for (s, action) in LEGAL if s is status]


@pytest.mark.parametrize(
    ("status", "live"),
    [(S.PENDING_REVIEW, True), (S.APPROVED, True)] + [(s, False) for s in TERMINAL],
)
def test_live_statuses_hold_the_claim(status: DealStatus, live: bool) -> None:
    assert status.is_live is live


# --- closing an opportunity -------------------------------------------------------------

CLOSE_TABLE = [
    (OpportunityStatus.WON, S.APPROVED, S.WON),
    (OpportunityStatus.WON, S.PENDING_REVIEW, S.REJECTED),
    (OpportunityStatus.LOST, S.APPROVED, S.LOST),
    (OpportunityStatus.LOST, S.PENDING_REVIEW, S.REJECTED),
]


@pytest.mark.parametrize(("outcome", "before", "after"), CLOSE_TABLE)
def test_closing_settles_live_registrations(
    outcome: OpportunityStatus, before: DealStatus, after: DealStatus
) -> None:
    assert CLOSE_OUTCOMES[outcome][before] is after


@pytest.mark.parametrize("outcome", [OpportunityStatus.WON, OpportunityStatus.LOST])
def test_closing_leaves_finished_registrations_alone(outcome: OpportunityStatus) -> None:
    assert set(CLOSE_OUTCOMES[outcome]) == {S.PENDING_REVIEW, S.APPROVED}


def test_an_open_opportunity_settles_nothing() -> None:
    assert OpportunityStatus.OPEN not in CLOSE_OUTCOMES


@pytest.mark.parametrize(("outcome", "before", "after"), CLOSE_TABLE)
def test_every_close_outcome_is_a_legal_transition(
    outcome: OpportunityStatus, before: DealStatus, after: DealStatus
) -> None:
    assert after in {target for (s, _), target in LEGAL.items() if s is before}


# --- the automatic checks ---------------------------------------------------------------


def facts(
    *,
    role: DealRole = DealRole.RESELLER,
    amount: str = "1000",
    direct_only: bool = False,
    existing_pipeline: bool = False,
    new_prospect: bool = False,
) -> RegistrationFacts:
    return RegistrationFacts(role, Decimal(amount), direct_only, existing_pipeline, new_prospect)


AUTO_RESELLER = DealProgram(VENDOR, auto_approve_roles=frozenset({DealRole.RESELLER}))
BLOCKING = DealProgram(VENDOR, existing_pipeline_blocks=True)
R = DealReason


@pytest.mark.parametrize(
    ("given", "program", "expected"),
    [
        (facts(direct_only=True), DEFAULTS, Verdict(S.REJECTED, (R.DIRECT_ONLY,), Credit.SOURCED)),
        (
            facts(direct_only=True),
            AUTO_RESELLER,
            Verdict(S.REJECTED, (R.DIRECT_ONLY,), Credit.SOURCED),
        ),
        (
            facts(direct_only=True, new_prospect=True),
            DEFAULTS,
            Verdict(S.REJECTED, (R.NEW_PROSPECT, R.DIRECT_ONLY), Credit.SOURCED),
        ),
    ],
    ids=["defaults", "before-auto-approve", "with-new-prospect"],
)
def test_direct_only_rejects(
    given: RegistrationFacts, program: DealProgram, expected: Verdict
) -> None:
    assert check_registration(given, program) == expected


@pytest.mark.parametrize(
    ("blocks", "program_roles", "status"),
    [
        (False, frozenset[DealRole](), S.PENDING_REVIEW),
        (True, frozenset[DealRole](), S.REJECTED),
        # an auto-approve rule never approves over the vendor's own pipeline
        (False, frozenset({DealRole.RESELLER}), S.PENDING_REVIEW),
        (True, frozenset({DealRole.RESELLER}), S.REJECTED),
    ],
)
def test_existing_pipeline_is_reviewed_or_blocked_and_credit_is_influenced(
    blocks: bool, program_roles: frozenset[DealRole], status: DealStatus
) -> None:
    program = DealProgram(VENDOR, existing_pipeline_blocks=blocks, auto_approve_roles=program_roles)
    verdict = check_registration(facts(existing_pipeline=True), program)
    assert verdict == Verdict(status, (R.EXISTING_PIPELINE,), Credit.INFLUENCED)


@pytest.mark.parametrize(
    ("role", "amount", "roles", "limit", "approved"),
    [
        (DealRole.RESELLER, "1000", {DealRole.RESELLER}, None, True),  # None: no limit
        (DealRole.RESELLER, "999999999999", {DealRole.RESELLER}, None, True),
        (DealRole.RESELLER, "1000", {DealRole.RESELLER}, "1000", True),  # equal is within
        (DealRole.RESELLER, "1000.00", {DealRole.RESELLER}, "1000", True),
        (DealRole.RESELLER, "1000.01", {DealRole.RESELLER}, "1000", False),
        (DealRole.RESELLER, "999.99", {DealRole.RESELLER}, "1000", True),
        (DealRole.RESELLER, "0", {DealRole.RESELLER}, "0", True),
        (DealRole.RESELLER, "1000", set(), None, False),  # no roles: nobody
        (DealRole.REFERRAL, "1000", {DealRole.RESELLER}, None, False),
        (DealRole.SI, "10", {DealRole.SI, DealRole.ISV}, "100", True),
        (DealRole.INFLUENCER, "10", {DealRole.SI, DealRole.ISV}, "100", False),
    ],
)
def test_auto_approve_by_role_and_amount_limit(
    role: DealRole, amount: str, roles: set[DealRole], limit: str | None, approved: bool
) -> None:
    program = DealProgram(
        VENDOR,
        auto_approve_roles=frozenset(roles),
        auto_approve_max_amount=None if limit is None else Decimal(limit),
    )
    given = facts(role=role, amount=amount)
    assert auto_approves(given, program) is approved
    expected = (
        Verdict(S.APPROVED, (R.AUTO_APPROVED,), Credit.SOURCED)
        if approved
        else Verdict(S.PENDING_REVIEW, (), Credit.SOURCED)
    )
    assert check_registration(given, program) == expected


@pytest.mark.parametrize(
    ("given", "program", "expected"),
    [
        (
            facts(new_prospect=True),
            DEFAULTS,
            Verdict(S.PENDING_REVIEW, (R.NEW_PROSPECT,), Credit.SOURCED),
        ),
        (
            facts(new_prospect=True),
            AUTO_RESELLER,
            Verdict(S.APPROVED, (R.NEW_PROSPECT, R.AUTO_APPROVED), Credit.SOURCED),
        ),
        (
            facts(new_prospect=True, existing_pipeline=True),
            DEFAULTS,
            Verdict(S.PENDING_REVIEW, (R.NEW_PROSPECT, R.EXISTING_PIPELINE), Credit.INFLUENCED),
        ),
        (
            facts(new_prospect=True, direct_only=True),
            AUTO_RESELLER,
            Verdict(S.REJECTED, (R.NEW_PROSPECT, R.DIRECT_ONLY), Credit.SOURCED),
        ),
    ],
    ids=["alone", "with-auto-approve", "with-pipeline", "with-direct-only"],
)
def test_new_prospect_reason_is_kept_alongside_the_others(
    given: RegistrationFacts, program: DealProgram, expected: Verdict
) -> None:
    assert check_registration(given, program) == expected


@pytest.mark.parametrize(
    ("given", "program", "expected"),
    [
        # direct-only before existing pipeline, whether or not pipeline blocks
        (
            facts(direct_only=True, existing_pipeline=True),
            DEFAULTS,
            Verdict(S.REJECTED, (R.DIRECT_ONLY,), Credit.SOURCED),
        ),
        (
            facts(direct_only=True, existing_pipeline=True),
            BLOCKING,
            Verdict(S.REJECTED, (R.DIRECT_ONLY,), Credit.SOURCED),
        ),
        # direct-only before auto-approve
        (
            facts(direct_only=True),
            AUTO_RESELLER,
            Verdict(S.REJECTED, (R.DIRECT_ONLY,), Credit.SOURCED),
        ),
        # existing pipeline before auto-approve
        (
            facts(existing_pipeline=True),
            AUTO_RESELLER,
            Verdict(S.PENDING_REVIEW, (R.EXISTING_PIPELINE,), Credit.INFLUENCED),
        ),
        # all three: direct-only wins
        (
            facts(direct_only=True, existing_pipeline=True),
            replace(AUTO_RESELLER, existing_pipeline_blocks=True),
            Verdict(S.REJECTED, (R.DIRECT_ONLY,), Credit.SOURCED),
        ),
        # nothing applies: review
        (facts(), DEFAULTS, Verdict(S.PENDING_REVIEW, (), Credit.SOURCED)),
    ],
    ids=[
        "direct-before-pipeline",
        "direct-before-blocking-pipeline",
        "direct-before-auto",
        "pipeline-before-auto",
        "all-three",
        "none",
    ],
)
def test_checks_apply_in_order(
    given: RegistrationFacts, program: DealProgram, expected: Verdict
) -> None:
    assert check_registration(given, program) == expected


@pytest.mark.parametrize("role", list(DealRole))
def test_default_program(role: DealRole) -> None:
    assert is_exclusive(role, DEFAULTS) is (role in (DealRole.RESELLER, DealRole.REFERRAL))
    assert not auto_approves(facts(role=role), DEFAULTS)
    assert (DEFAULTS.expiry_days, DEFAULTS.extension_days, DEFAULTS.max_extensions) == (90, 30, 2)
    assert DEFAULTS.existing_pipeline_blocks is False


# --- claim keys -------------------------------------------------------------------------

EXCLUSIVE = (DealRole.RESELLER, DealRole.REFERRAL)
CO_SELL = (DealRole.SI, DealRole.ISV, DealRole.INFLUENCER)


def key(
    role: DealRole,
    partner: str = P1,
    *,
    product_line: str = "",
    account: str = ACCOUNT,
    vendor: str = VENDOR,
    program: DealProgram = DEFAULTS,
) -> str:
    return claim_key(
        vendor_org=vendor,
        account_id=account,
        product_line=product_line,
        role=role,
        partner_org=partner,
        program=program,
    )


@pytest.mark.parametrize(
    ("first", "second"), list(itertools.product(itertools.product(EXCLUSIVE, (P1, P2)), repeat=2))
)
def test_exclusive_roles_share_one_slot_across_partners_and_roles(
    first: tuple[DealRole, str], second: tuple[DealRole, str]
) -> None:
    assert key(*first) == key(*second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (a, b)
        for a, b in itertools.combinations(
            list(itertools.product((*EXCLUSIVE, *CO_SELL), (P1, P2))), 2
        )
        if not (a[0] in EXCLUSIVE and b[0] in EXCLUSIVE)
    ],
)
def test_co_selling_roles_hold_one_claim_per_partner_and_role(
    first: tuple[DealRole, str], second: tuple[DealRole, str]
) -> None:
    assert key(*first) != key(*second)


@pytest.mark.parametrize("role", CO_SELL)
def test_a_co_selling_partner_repeating_its_role_hits_its_own_claim(role: DealRole) -> None:
    assert key(role, P1) == key(role, P1)


@pytest.mark.parametrize("role", list(DealRole))
@pytest.mark.parametrize(
    "change",
    [
        {"vendor": "other-vendor"},
        {"account": "account-2"},
        {"product_line": "analytics"},
    ],
)
def test_slots_are_per_vendor_account_and_product_line(
    role: DealRole, change: dict[str, str]
) -> None:
    assert key(role) != key(role, **change)  # type: ignore[arg-type]


CUSTOM = DealProgram(VENDOR, exclusive_roles=frozenset({DealRole.SI}))


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ((DealRole.SI, P1), (DealRole.SI, P2), True),  # SI is exclusive in this program
        ((DealRole.RESELLER, P1), (DealRole.RESELLER, P2), False),  # RESELLER is not
        ((DealRole.RESELLER, P1), (DealRole.REFERRAL, P1), False),
        ((DealRole.SI, P1), (DealRole.RESELLER, P1), False),
    ],
)
def test_a_program_chooses_its_exclusive_roles(
    first: tuple[DealRole, str], second: tuple[DealRole, str], shared: bool
) -> None:
    assert (key(*first, program=CUSTOM) == key(*second, program=CUSTOM)) is shared


def test_no_exclusive_roles_means_everyone_co_registers() -> None:
    program = DealProgram(VENDOR, exclusive_roles=frozenset())
    keys = {key(role, partner, program=program) for role in DealRole for partner in (P1, P2)}
    assert len(keys) == 2 * len(DealRole)


# --- product lines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("Analytics", "analytics"),
        ("  Data   Platform ", "data platform"),
        ("DATA\tPLATFORM\n", "data platform"),
        ("\uff23\uff4c\uff4f\uff55\uff44", "cloud"),  # full width
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("ﬁrewall", "firewall"),  # ligature
        ("Café", "café"),
        ("Cafe\u0301", "café"),  # combining accent composes
        ("Data\u00a0Platform", "data platform"),  # no-break space
    ],
)
def test_canonical_product_line(raw: str | None, canonical: str) -> None:
    assert canonical_product_line(raw) == canonical
    assert canonical_product_line(canonical) == canonical  # idempotent


def test_product_lines_that_read_the_same_share_a_slot() -> None:
    assert key(
        DealRole.RESELLER,
        P1,
        product_line=canonical_product_line("\uff24\uff41\uff54\uff41  Platform"),
    ) == key(DealRole.REFERRAL, P2, product_line=canonical_product_line("data platform"))


# --- expiry -----------------------------------------------------------------------------


def registration(
    status: DealStatus = S.APPROVED,
    *,
    expires_at_minutes: int | None = 60,
    extensions: int = 0,
    reasons: tuple[DealReason, ...] = (),
) -> DealRegistration:
    return DealRegistration(
        id="deal-1",
        vendor_org=VENDOR,
        partner_org=P1,
        account_id=ACCOUNT,
        opportunity_id=None,
        role=DealRole.RESELLER,
        product_line="",
        amount=Decimal("1000"),
        currency="USD",
        expected_close=at(0).date(),
        status=status,
        reasons=reasons,
        credit=Credit.SOURCED,
        registered_by="user-1",
        registered_at=at(0),
        updated_at=at(0),
        claim_key=key(DealRole.RESELLER),
        expires_at=None if expires_at_minutes is None else at(expires_at_minutes),
        extensions=extensions,
    )


@pytest.mark.parametrize(
    ("status", "expires", "now", "expected"),
    [
        (S.APPROVED, 60, 59, S.APPROVED),
        (S.APPROVED, 60, 60, S.EXPIRED),  # the boundary: expires_at == now is expired
        (S.APPROVED, 60, 61, S.EXPIRED),
        (S.APPROVED, None, 10**6, S.APPROVED),  # no expiry set
        (S.PENDING_REVIEW, 60, 61, S.PENDING_REVIEW),  # only approvals expire
        (S.WITHDRAWN, 60, 61, S.WITHDRAWN),
        (S.WON, 60, 61, S.WON),
        (S.LOST, 60, 61, S.LOST),
        (S.REJECTED, 60, 61, S.REJECTED),
        (S.EXPIRED, 60, 61, S.EXPIRED),
    ],
)
def test_effective_status_applies_expiry_on_read(
    status: DealStatus, expires: int | None, now: int, expected: DealStatus
) -> None:
    stored = registration(status, expires_at_minutes=expires)
    assert effective_status(stored, at(now)) is expected
    seen = as_of(stored, at(now))
    assert seen.status is expected
    assert seen == replace(stored, status=expected)
    if expected is status:
        assert seen is stored  # nothing to change: the same record


def test_approval_expiry_is_the_programs_days_after_approval() -> None:
    assert approval_expiry(DEFAULTS, at(0)) == at(0) + timedelta(days=90)
    assert approval_expiry(DealProgram(VENDOR, expiry_days=7), at(5)) == at(5) + timedelta(days=7)


DAYS_30 = 30 * 24 * 60


@pytest.mark.parametrize(
    ("expires", "now", "expected"),
    [
        (60, 0, 60 + DAYS_30),  # still running: from the current expiry
        (60, 60, 60 + DAYS_30),  # at the boundary both starts agree
        (60, 120, 120 + DAYS_30),  # time is up already: from now, never into the past
        (None, 10, 10 + DAYS_30),  # no expiry: from now
    ],
)
def test_an_extension_starts_from_the_later_of_now_and_expiry(
    expires: int | None, now: int, expected: int
) -> None:
    stored = registration(expires_at_minutes=expires)
    assert extended_expiry(stored, DEFAULTS, at(now)) == at(expected)


@pytest.mark.parametrize(
    ("max_extensions", "extensions", "allowed"),
    [
        (2, 0, True),
        (2, 1, True),
        (2, 2, False),  # the limit reached
        (2, 3, False),
        (0, 0, False),  # a program without extensions
        (1, 0, True),
        (1, 1, False),
    ],
)
def test_extensions_are_bounded(max_extensions: int, extensions: int, allowed: bool) -> None:
    program = DealProgram(VENDOR, max_extensions=max_extensions, extension_days=10)
    stored = registration(extensions=extensions)
    if allowed:
        assert extended_expiry(stored, program, at(0)) == at(60) + timedelta(days=10)
    else:
        with pytest.raises(IllegalTransition) as caught:
            extended_expiry(stored, program, at(0))
        assert caught.value.code == "ILLEGAL_TRANSITION"
        assert caught.value.field == "id"


# --- what partners see ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasons", "partner_sees"),
    [
        ((), ()),
        ((R.NEW_PROSPECT,), ()),
        ((R.NEW_PROSPECT, R.AUTO_APPROVED), (R.AUTO_APPROVED,)),
        ((R.NEW_PROSPECT, R.DIRECT_ONLY), (R.DIRECT_ONLY,)),
        ((R.EXISTING_PIPELINE,), (R.EXISTING_PIPELINE,)),
        ((R.AUTO_APPROVED, R.DUPLICATE), (R.AUTO_APPROVED, R.DUPLICATE)),
        ((R.NEW_PROSPECT, R.AUTO_APPROVED, R.DUPLICATE), (R.AUTO_APPROVED, R.DUPLICATE)),
    ],
)
def test_partners_never_learn_whether_the_vendor_knew_the_account(
    reasons: tuple[DealReason, ...], partner_sees: tuple[DealReason, ...]
) -> None:
    stored = registration(reasons=reasons)
    assert visible_reasons(stored, as_vendor=True) == reasons
    assert visible_reasons(stored, as_vendor=False) == partner_sees
