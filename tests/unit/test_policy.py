"""The sharing policy, exhaustively: every level x population x direction x status."""

from __future__ import annotations

import itertools

import pytest

from graph.model import Partnership, PartnershipStatus, SharingLevel, SharingRule
from privacy.policy import grant, grants
from privacy.populations import STANDARD_POPULATIONS
from tests.factories import at

A, B, C = "org-a", "org-b", "org-c"
POPULATIONS = (*STANDARD_POPULATIONS, "Strategic EMEA")


def partnership(status: PartnershipStatus, inviter: str = A, invitee: str = B) -> Partnership:
    return Partnership("p1", inviter, invitee, status, at(0), at(1))


ACTIVE = partnership(PartnershipStatus.ACTIVE)


@pytest.mark.parametrize(
    ("level", "population", "direction"),
    list(itertools.product(SharingLevel, POPULATIONS, ("a_to_b", "b_to_a"))),
)
def test_rule_grants_exactly_its_level_in_its_direction_only(
    level: SharingLevel, population: str, direction: str
) -> None:
    owner, viewer = (A, B) if direction == "a_to_b" else (B, A)
    rules = [SharingRule(owner, viewer, population, level, ("owner", "stage"))]
    seen = grant(viewer, owner, ACTIVE, rules, population)
    assert seen.level is level
    assert seen.shows_counts == (level is not SharingLevel.HIDDEN)
    assert seen.shows_identities == (level in (SharingLevel.OVERLAPS, SharingLevel.DETAILS))
    assert seen.shows_fields == (level is SharingLevel.DETAILS)
    assert seen.fields == (("owner", "stage") if level is SharingLevel.DETAILS else ())
    # the owner's rule says nothing about what the owner sees of the viewer
    assert grant(owner, viewer, ACTIVE, rules, population).level is SharingLevel.HIDDEN
    # nor about any other population
    for other in POPULATIONS:
        if other != population:
            assert grant(viewer, owner, ACTIVE, rules, other).level is SharingLevel.HIDDEN


@pytest.mark.parametrize(
    "status", [s for s in PartnershipStatus if s is not PartnershipStatus.ACTIVE]
)
@pytest.mark.parametrize("level", list(SharingLevel))
def test_nothing_is_shared_outside_an_active_partnership(
    status: PartnershipStatus, level: SharingLevel
) -> None:
    rules = [SharingRule(A, B, "CUSTOMER", level)]
    assert grant(B, A, partnership(status), rules, "CUSTOMER").level is SharingLevel.HIDDEN
    assert grant(B, A, None, rules, "CUSTOMER").level is SharingLevel.HIDDEN


def test_a_partnership_between_other_orgs_grants_nothing() -> None:
    rules = [SharingRule(A, C, "CUSTOMER", SharingLevel.DETAILS)]
    assert grant(C, A, ACTIVE, rules, "CUSTOMER").level is SharingLevel.HIDDEN


def test_a_rule_addressed_to_someone_else_grants_nothing() -> None:
    rules = [SharingRule(A, C, "CUSTOMER", SharingLevel.DETAILS)]
    assert grant(B, A, ACTIVE, rules, "CUSTOMER").level is SharingLevel.HIDDEN


def test_missing_rule_means_hidden_and_hidden_populations_are_left_out() -> None:
    rules = [
        SharingRule(A, B, "CUSTOMER", SharingLevel.COUNTS),
        SharingRule(A, B, "PROSPECT", SharingLevel.HIDDEN),
    ]
    visible = grants(B, A, ACTIVE, rules, POPULATIONS)
    assert [(g.population, g.level) for g in visible] == [("CUSTOMER", SharingLevel.COUNTS)]


def test_levels_are_ordered() -> None:
    ranks = [level.rank for level in SharingLevel]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)
