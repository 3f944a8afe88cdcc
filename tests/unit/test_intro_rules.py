"""The introduction and ask state machines and discovery scoring, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from graph.errors import ConfigurationError, Forbidden, IllegalTransition
from graph.intros import (
    AccountAsk,
    AskKind,
    AskStatus,
    Candidate,
    CandidateSignals,
    Introduction,
    IntroStatus,
)
from graph.model import Org, OrgType
from resolvers.intros import discovery, rules
from resolvers.intros.rules import AskAction, IntroAction, Party

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def intro(status: IntroStatus, *, brokered: bool) -> Introduction:
    return Introduction(
        id="i1",
        requester_org="req",
        target_org="tgt",
        broker_org="brk" if brokered else None,
        message="hello",
        status=status,
        requested_by="u1",
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=30),
        pair_key=rules.pair_key("req", "tgt"),
    )


# (status, action, brokered) -> (who may, resulting status); every other triple is illegal.
LEGAL: dict[tuple[IntroStatus, IntroAction, bool], tuple[Party, IntroStatus]] = {
    (IntroStatus.REQUESTED, IntroAction.FORWARD, True): (Party.BROKER, IntroStatus.FORWARDED),
    (IntroStatus.REQUESTED, IntroAction.BROKER_DECLINE, True): (
        Party.BROKER,
        IntroStatus.DECLINED,
    ),
    (IntroStatus.REQUESTED, IntroAction.ACCEPT, False): (Party.TARGET, IntroStatus.ACCEPTED),
    (IntroStatus.REQUESTED, IntroAction.DECLINE, False): (Party.TARGET, IntroStatus.DECLINED),
    (IntroStatus.FORWARDED, IntroAction.ACCEPT, True): (Party.TARGET, IntroStatus.ACCEPTED),
    (IntroStatus.FORWARDED, IntroAction.DECLINE, True): (Party.TARGET, IntroStatus.DECLINED),
    **{
        (status, IntroAction.WITHDRAW, brokered): (Party.REQUESTER, IntroStatus.WITHDRAWN)
        for status in (IntroStatus.REQUESTED, IntroStatus.FORWARDED)
        for brokered in (True, False)
    },
    **{
        (status, IntroAction.EXPIRE, brokered): (Party.SERVER, IntroStatus.EXPIRED)
        for status in (IntroStatus.REQUESTED, IntroStatus.FORWARDED)
        for brokered in (True, False)
    },
}
ALL = list(product(IntroStatus, IntroAction, (True, False)))


@pytest.mark.parametrize(("status", "action", "brokered"), [k for k in ALL if k in LEGAL])
def test_legal_moves_by_the_right_party(
    status: IntroStatus, action: IntroAction, brokered: bool
) -> None:
    party, expected = LEGAL[(status, action, brokered)]
    assert rules.next_intro_status(intro(status, brokered=brokered), action, by=party) is expected
    for other in set(Party) - {party}:
        with pytest.raises(Forbidden):
            rules.next_intro_status(intro(status, brokered=brokered), action, by=other)


@pytest.mark.parametrize(("status", "action", "brokered"), [k for k in ALL if k not in LEGAL])
def test_every_other_move_is_an_illegal_transition(
    status: IntroStatus, action: IntroAction, brokered: bool
) -> None:
    for party in Party:
        with pytest.raises(IllegalTransition) as raised:
            rules.next_intro_status(intro(status, brokered=brokered), action, by=party)
        assert raised.value.code == "ILLEGAL_TRANSITION"


def ask(status: AskStatus) -> AccountAsk:
    return AccountAsk(
        id="a1",
        requester_org="req",
        requester_user="u1",
        partner_org="par",
        account_id="acc",
        partner_account_ids=("p1",),
        kind=AskKind.REFERENCE,
        message="help?",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=30),
    )


ASK_LEGAL = {
    (AskStatus.REQUESTED, AskAction.ACCEPT): (Party.TARGET, AskStatus.ACCEPTED),
    (AskStatus.REQUESTED, AskAction.DECLINE): (Party.TARGET, AskStatus.DECLINED),
    (AskStatus.REQUESTED, AskAction.WITHDRAW): (Party.REQUESTER, AskStatus.WITHDRAWN),
    (AskStatus.REQUESTED, AskAction.EXPIRE): (Party.SERVER, AskStatus.EXPIRED),
}


@pytest.mark.parametrize(("status", "action"), list(product(AskStatus, AskAction)))
def test_ask_transitions(status: AskStatus, action: AskAction) -> None:
    if (status, action) in ASK_LEGAL:
        party, expected = ASK_LEGAL[(status, action)]
        assert rules.next_ask_status(ask(status), action, by=party) is expected
        wrong = Party.REQUESTER if party is not Party.REQUESTER else Party.TARGET
        with pytest.raises(Forbidden):
            rules.next_ask_status(ask(status), action, by=wrong)
    else:
        with pytest.raises(IllegalTransition):
            rules.next_ask_status(ask(status), action, by=Party.TARGET)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(seconds=-1), IntroStatus.REQUESTED),
        (timedelta(0), IntroStatus.EXPIRED),  # expires_at == now is expired
        (timedelta(days=1), IntroStatus.EXPIRED),
    ],
)
def test_lazy_expiry_boundary(offset: timedelta, expected: IntroStatus) -> None:
    item = intro(IntroStatus.REQUESTED, brokered=False)
    assert rules.effective_intro(item, item.expires_at + offset).status is expected
    closed = intro(IntroStatus.DECLINED, brokered=False)
    assert rules.effective_intro(closed, closed.expires_at + offset).status is IntroStatus.DECLINED


def test_pair_key_is_unordered() -> None:
    assert rules.pair_key("a", "b") == rules.pair_key("b", "a") == "a|b"


@pytest.mark.parametrize(
    ("count", "k", "expected"),
    [
        (0, 5, None),
        (4, 5, None),  # below k: suppressed, no bucket at all
        (5, 5, ("5-9", 1)),
        (9, 5, ("5-9", 1)),
        (10, 5, ("10-49", 2)),
        (49, 5, ("10-49", 2)),
        (50, 5, ("50-249", 3)),
        (250, 5, ("250-999", 4)),
        (1000, 5, ("1000+", 5)),
        (12, 20, None),  # a larger k suppresses more
        (25, 20, ("10-49", 2)),
    ],
)
def test_overlap_buckets(count: int, k: int, expected: tuple[str, int] | None) -> None:
    assert discovery.overlap_bucket(count, k) == expected


def test_complements_are_symmetric_and_validated() -> None:
    parsed = discovery.parse_complements("ISV:SI+MSP;reseller:msp")
    assert parsed[OrgType.SI] == frozenset({OrgType.ISV})
    assert parsed[OrgType.ISV] == frozenset({OrgType.SI, OrgType.MSP})
    assert parsed[OrgType.MSP] == frozenset({OrgType.ISV, OrgType.RESELLER})
    for bad in ("ISV", "ISV:", "ALIEN:SI", "ISV:SI+ALIEN"):
        with pytest.raises(ConfigurationError):
            discovery.parse_complements(bad)


def org(org_id: str, kind: OrgType, region: str = "EMEA") -> Org:
    return Org(org_id, f"Org {org_id}", frozenset({kind}), region, False, NOW)


@pytest.mark.parametrize(
    ("overlap", "shared", "co_won", "region", "score"),
    [
        (0, 0, 0, "APAC", 3),  # type fit only
        (4, 0, 0, "APAC", 3),  # overlap below k adds nothing
        (12, 0, 0, "APAC", 5),  # 10-49: +2
        (12, 5, 0, "APAC", 8),  # shared partners capped at 3
        (12, 5, 7, "APAC", 14),  # co-won capped at 3 deals, 2 points each
        (12, 5, 7, "EMEA", 15),  # same region
    ],
)
def test_score_adds_capped_signals(
    overlap: int, shared: int, co_won: int, region: str, score: int
) -> None:
    me, them = org("me", OrgType.ISV), org("them", OrgType.SI, region)
    candidate = Candidate("them", True, tuple(f"p{i}" for i in range(shared)))
    suggestion = discovery.score(
        me,
        them,
        candidate,
        CandidateSignals("them", overlap, co_won),
        complements=discovery.parse_complements(discovery.DEFAULT_COMPLEMENTS),
        k=5,
    )
    assert suggestion.score == score
    assert len(suggestion.reasons) == sum(
        (overlap >= 5, True, shared > 0, co_won > 0, region == "EMEA")
    )
    assert str(overlap) not in " ".join(suggestion.reasons) or overlap >= 10
