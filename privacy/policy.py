"""The sharing policy: what a viewer may see of a partner's data.

Pure functions of the rule set and the partnership. A partner's data is visible only
through an ACTIVE partnership, and only as far as the partner's own rule for that
population grants; a missing rule means HIDDEN. Nothing here looks at the viewer's own
rules: they govern what the partner sees, never what the viewer sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graph.model import Partnership, PartnershipStatus, SharingLevel, SharingRule


@dataclass(frozen=True, slots=True)
class Grant:
    """What a viewer may see of one of the partner's populations."""

    population: str
    level: SharingLevel
    fields: tuple[str, ...] = ()

    @property
    def shows_counts(self) -> bool:
        return self.level.rank >= SharingLevel.COUNTS.rank

    @property
    def shows_identities(self) -> bool:
        """May the viewer learn which of its accounts are in this population?"""
        return self.level.rank >= SharingLevel.OVERLAPS.rank

    @property
    def shows_fields(self) -> bool:
        return self.level is SharingLevel.DETAILS


HIDDEN = SharingLevel.HIDDEN


def grant(
    viewer_org: str,
    partner_org: str,
    partnership: Partnership | None,
    partner_rules: Iterable[SharingRule],
    population: str,
) -> Grant:
    """What `viewer_org` may see of `partner_org`'s `population`."""
    if not _active_between(partnership, viewer_org, partner_org):
        return Grant(population, HIDDEN)
    for rule in partner_rules:
        if (
            rule.from_org == partner_org
            and rule.to_org == viewer_org
            and rule.population == population
        ):
            fields = rule.fields if rule.level is SharingLevel.DETAILS else ()
            return Grant(population, rule.level, fields)
    return Grant(population, HIDDEN)


def grants(
    viewer_org: str,
    partner_org: str,
    partnership: Partnership | None,
    partner_rules: Iterable[SharingRule],
    populations: Iterable[str],
) -> list[Grant]:
    """Grants for each population, leaving out the HIDDEN ones: a hidden population
    does not exist for the viewer."""
    rules = list(partner_rules)
    result = [grant(viewer_org, partner_org, partnership, rules, p) for p in populations]
    return [g for g in result if g.level is not HIDDEN]


def _active_between(partnership: Partnership | None, a: str, b: str) -> bool:
    return (
        partnership is not None
        and partnership.status is PartnershipStatus.ACTIVE
        and partnership.involves(a)
        and partnership.involves(b)
        and a != b
    )
