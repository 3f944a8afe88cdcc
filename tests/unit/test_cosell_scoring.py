"""Co-sell scoring rules, without a store: presence score, partner fit, ranked pages."""

from __future__ import annotations

import pytest

from graph.errors import BadInput
from graph.model import OrgType
from resolvers.cosell import (
    Signals,
    fitting_types,
    parse_rank_key,
    population_weight,
    presence_score,
    rank_key,
    ranked_page,
    recommend,
)


@pytest.mark.parametrize(
    ("population", "weight"),
    [
        ("CUSTOMER", 3),
        ("OPEN_OPPORTUNITY", 2),
        ("PROSPECT", 1),
        ("CHURNED", 0),
        ("Strategic EMEA", 1),
        ("customer", 1),  # population names are exact: a lower-case one is custom
    ],
)
def test_population_weights(population: str, weight: int) -> None:
    assert population_weight(population) == weight


def test_presence_score_sums_population_weights_over_partners() -> None:
    # given three partners: a customer, a customer with an open opportunity, a churned one
    presences = [["CUSTOMER"], ["CUSTOMER", "OPEN_OPPORTUNITY"], ["CHURNED"]]
    # then
    assert presence_score(presences) == 3 + (3 + 2) + 0


def test_presence_score_counts_a_population_once_per_partner() -> None:
    # given one partner with two matching accounts, both customers
    assert presence_score([["CUSTOMER", "CUSTOMER"]]) == 3


def test_several_partners_that_sell_to_an_account_outrank_one() -> None:
    many = presence_score([["CUSTOMER"], ["CUSTOMER"]])
    one = presence_score([["CUSTOMER", "OPEN_OPPORTUNITY"]])
    none = presence_score([])
    assert many > one > none == 0


def test_fitting_types_by_account_stage() -> None:
    assert fitting_types(["CUSTOMER"]) == {OrgType.RESELLER, OrgType.MSP, OrgType.SI, OrgType.ISV}
    assert fitting_types(["PROSPECT"]) == {OrgType.ISV}
    assert fitting_types([]) == {OrgType.ISV}


def signals(**overrides: object) -> Signals:
    values: dict[str, object] = {
        "partner_id": "p1",
        "presence": (),
        "partner_types": frozenset({OrgType.VENDOR}),
        "account_populations": ("PROSPECT",),
        "partner_region": "APAC",
        "my_region": "EMEA",
        **overrides,
    }
    return Signals(**values)  # type: ignore[arg-type]


def test_recommendation_adds_every_signal_with_a_reason() -> None:
    # given a reseller in my region that has my customer account as its customer
    given = signals(
        presence=("CUSTOMER",),
        partner_types=frozenset({OrgType.RESELLER, OrgType.VENDOR}),
        account_populations=("CUSTOMER",),
        partner_region="EMEA",
    )
    # when
    result = recommend(given)
    # then
    assert result.partner_id == "p1"
    assert result.score == 3 + 1 + 1
    assert result.reasons == (
        "Has this account in its CUSTOMER population (+3)",
        "Partner type RESELLER suits a CUSTOMER account (+1)",
        "Works in your region, EMEA (+1)",
        "Deals won together: not tracked yet (+0)",
        "Open deal registrations (current load): not tracked yet (-0)",
    )


def test_recommendation_without_signals_scores_zero_and_says_what_is_not_tracked() -> None:
    result = recommend(signals())
    assert result.score == 0
    assert result.reasons == (
        "Deals won together: not tracked yet (+0)",
        "Open deal registrations (current load): not tracked yet (-0)",
    )


def test_reseller_does_not_fit_a_prospect_but_an_isv_fits_anything() -> None:
    reseller = recommend(signals(partner_types=frozenset({OrgType.RESELLER})))
    isv = recommend(signals(partner_types=frozenset({OrgType.ISV})))
    assert reseller.score == 0
    assert isv.score == 1
    assert "Partner type ISV suits this account (+1)" in isv.reasons


def test_presence_in_several_populations_adds_each_once() -> None:
    result = recommend(signals(presence=("OPEN_OPPORTUNITY", "CUSTOMER", "CUSTOMER")))
    assert result.score == 5
    assert [r for r in result.reasons if "population" in r] == [
        "Has this account in its CUSTOMER population (+3)",
        "Has this account in its OPEN_OPPORTUNITY population (+2)",
    ]


@pytest.mark.parametrize(("won", "points"), [(0, 0), (1, 1), (2, 2), (10, 3)])
def test_won_deals_add_points_up_to_a_cap(won: int, points: int) -> None:
    assert recommend(signals(won_deals=won)).score == points


@pytest.mark.parametrize(("open_registrations", "penalty"), [(0, 0), (2, 2), (9, 3)])
def test_open_registrations_cost_points_up_to_a_cap(open_registrations: int, penalty: int) -> None:
    assert recommend(signals(open_registrations=open_registrations)).score == -penalty


ITEMS = [("d", 1), ("b", 3), ("c", 3), ("a", 0), ("e", 5)]


def rank(item: tuple[str, int]) -> tuple[int, str]:
    return item[1], item[0]


def test_ranked_page_orders_by_score_then_id() -> None:
    page = ranked_page(ITEMS, rank, first=10, after=None)
    assert [i for i, _ in page.items] == ["e", "b", "c", "d", "a"]
    assert not page.has_next
    assert page.cursors == ["5:e", "3:b", "3:c", "1:d", "0:a"]


def test_ranked_pages_continue_after_the_cursor_through_ties() -> None:
    first = ranked_page(ITEMS, rank, first=2, after=None)
    assert [i for i, _ in first.items] == ["e", "b"]
    assert first.has_next
    second = ranked_page(ITEMS, rank, first=2, after=first.cursors[-1])
    assert [i for i, _ in second.items] == ["c", "d"]
    assert second.has_next
    third = ranked_page(ITEMS, rank, first=2, after=second.cursors[-1])
    assert [i for i, _ in third.items] == ["a"]
    assert not third.has_next


def test_a_cursor_of_a_vanished_item_still_resumes_in_place() -> None:
    page = ranked_page(ITEMS, rank, first=10, after=rank_key(3, "bb"))
    assert [i for i, _ in page.items] == ["c", "d", "a"]


def test_rank_keys_round_trip_ids_with_colons() -> None:
    assert parse_rank_key(rank_key(-2, "x:y")) == (-2, "x:y")
    assert parse_rank_key(None) is None


@pytest.mark.parametrize("key", ["", "3", "3:", "x:a", ":a"])
def test_malformed_rank_keys_are_bad_input(key: str) -> None:
    with pytest.raises(BadInput):
        parse_rank_key(key)
