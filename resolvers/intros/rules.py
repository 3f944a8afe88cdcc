"""The introduction and ask state machines, as plain functions.

Who may make each move is part of the rule: the broker forwards or declines a brokered
request before the target ever sees it; the target accepts or declines; the requester
withdraws; the server expires. Anything else is an IllegalTransition (or Forbidden,
when the org is not the one who may act).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from graph.errors import Forbidden, IllegalTransition
from graph.intros import AccountAsk, AskStatus, Introduction, IntroStatus


class IntroAction(enum.StrEnum):
    FORWARD = "FORWARD"  # broker
    BROKER_DECLINE = "BROKER_DECLINE"  # broker
    ACCEPT = "ACCEPT"  # target
    DECLINE = "DECLINE"  # target
    WITHDRAW = "WITHDRAW"  # requester
    EXPIRE = "EXPIRE"  # server


class Party(enum.StrEnum):
    REQUESTER = "REQUESTER"
    TARGET = "TARGET"
    BROKER = "BROKER"
    SERVER = "SERVER"


@dataclass(frozen=True, slots=True)
class Move:
    to: IntroStatus
    by: Party
    brokered: bool | None  # True: only brokered requests; False: only direct; None: both


# Every legal move; anything else is an IllegalTransition.
INTRO_TRANSITIONS: Mapping[tuple[IntroStatus, IntroAction], Move] = {
    (IntroStatus.REQUESTED, IntroAction.FORWARD): Move(IntroStatus.FORWARDED, Party.BROKER, True),
    (IntroStatus.REQUESTED, IntroAction.BROKER_DECLINE): Move(
        IntroStatus.DECLINED, Party.BROKER, True
    ),
    (IntroStatus.REQUESTED, IntroAction.ACCEPT): Move(IntroStatus.ACCEPTED, Party.TARGET, False),
    (IntroStatus.REQUESTED, IntroAction.DECLINE): Move(IntroStatus.DECLINED, Party.TARGET, False),
    (IntroStatus.FORWARDED, IntroAction.ACCEPT): Move(IntroStatus.ACCEPTED, Party.TARGET, True),
    (IntroStatus.FORWARDED, IntroAction.DECLINE): Move(IntroStatus.DECLINED, Party.TARGET, True),
    (IntroStatus.REQUESTED, IntroAction.WITHDRAW): Move(
        IntroStatus.WITHDRAWN, Party.REQUESTER, None
    ),
    (IntroStatus.FORWARDED, IntroAction.WITHDRAW): Move(
        IntroStatus.WITHDRAWN, Party.REQUESTER, None
    ),
    (IntroStatus.REQUESTED, IntroAction.EXPIRE): Move(IntroStatus.EXPIRED, Party.SERVER, None),
    (IntroStatus.FORWARDED, IntroAction.EXPIRE): Move(IntroStatus.EXPIRED, Party.SERVER, None),
}


def parties_of(introduction: Introduction, org_id: str) -> set[Party]:
    found = set()
    if org_id == introduction.requester_org:
        found.add(Party.REQUESTER)
    if org_id == introduction.target_org:
        found.add(Party.TARGET)
    if introduction.broker_org is not None and org_id == introduction.broker_org:
        found.add(Party.BROKER)
    return found


def next_intro_status(introduction: Introduction, action: IntroAction, *, by: Party) -> IntroStatus:
    """The status `action` leads to, if `by` may take it from the current status."""
    move = INTRO_TRANSITIONS.get((introduction.status, action))
    brokered = introduction.broker_org is not None
    if move is None or (move.brokered is not None and move.brokered != brokered):
        kind = "brokered" if brokered else "direct"
        raise IllegalTransition(
            f"a {introduction.status.value} {kind} introduction cannot take {action.value}",
            field="id",
        )
    if move.by is not by:
        raise Forbidden(f"only the {move.by.value.lower()} may {action.value.lower()} it")
    return move.to


def effective_intro(introduction: Introduction, now: datetime) -> Introduction:
    """As of now: an open request past its expiry reads as EXPIRED before any sweep."""
    if introduction.status.is_open and introduction.expires_at <= now:
        return replace(introduction, status=IntroStatus.EXPIRED)
    return introduction


def pair_key(org_a: str, org_b: str) -> str:
    low, high = sorted((org_a, org_b))
    return f"{low}|{high}"


class AskAction(enum.StrEnum):
    ACCEPT = "ACCEPT"  # the partner asked
    DECLINE = "DECLINE"  # the partner asked
    WITHDRAW = "WITHDRAW"  # the requester
    EXPIRE = "EXPIRE"  # server


ASK_TRANSITIONS: Mapping[tuple[AskStatus, AskAction], tuple[AskStatus, Party]] = {
    (AskStatus.REQUESTED, AskAction.ACCEPT): (AskStatus.ACCEPTED, Party.TARGET),
    (AskStatus.REQUESTED, AskAction.DECLINE): (AskStatus.DECLINED, Party.TARGET),
    (AskStatus.REQUESTED, AskAction.WITHDRAW): (AskStatus.WITHDRAWN, Party.REQUESTER),
    (AskStatus.REQUESTED, AskAction.EXPIRE): (AskStatus.EXPIRED, Party.SERVER),
}


def next_ask_status(ask: AccountAsk, action: AskAction, *, by: Party) -> AskStatus:
    found = ASK_TRANSITIONS.get((ask.status, action))
    if found is None:
        raise IllegalTransition(f"a {ask.status.value} ask cannot take {action.value}", field="id")
    status, party = found
    if party is not by:
        raise Forbidden(f"only the {party.value.lower()} may {action.value.lower()} it")
    return status


def effective_ask(ask: AccountAsk, now: datetime) -> AccountAsk:
    if ask.status.is_open and ask.expires_at <= now:
        return replace(ask, status=AskStatus.EXPIRED)
    return ask


@dataclass(frozen=True, slots=True)
class SafetyPolicy:
    """Anti-spam settings (TANDEM_INTRO_* in api/settings.py)."""

    expiry: timedelta = timedelta(days=30)
    daily_requests: int = 20  # introductions + asks an org may create per 24 hours
    cooling_off: timedelta = timedelta(days=90)  # after a decline, per direction


def cooling_off_until(last_declined: datetime | None, policy: SafetyPolicy) -> datetime | None:
    return None if last_declined is None else last_declined + policy.cooling_off
