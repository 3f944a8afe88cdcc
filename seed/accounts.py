"""Accounts for every seeded org, with a realistic overlap structure.

All orgs draw their accounts from one pool of companies. Popularity follows a power
law: a few companies are everybody's customer or prospect, most appear in one or two
lists (the long tail). Partners of a vendor therefore share customers with it and with
each other, the way real ecosystems do. Everything is a pure function of (seed, org),
and accounts are produced lazily, so even the large scale streams in constant memory.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from faker import Faker

from graph.model import Org, OrgType
from resolvers.accounts import AccountInput

TLDS = (".com", ".com", ".com", ".io", ".net", ".co.uk", ".de", ".fr", ".com.au", ".ca")
POPULATIONS = (
    ("CUSTOMER", 0.40),
    ("OPEN_OPPORTUNITY", 0.20),
    ("PROSPECT", 0.35),
    ("CHURNED", 0.05),
)
INDUSTRIES = ("Software", "Retail", "Manufacturing", "Finance", "Healthcare", "Energy")
SKEW = 2.2  # higher: more concentration on popular companies


@dataclass(frozen=True, slots=True)
class AccountScale:
    pool: int  # distinct companies in the world
    vendor_accounts: int
    partner_accounts: tuple[int, int]  # range


ACCOUNT_SCALES = {
    "demo": AccountScale(pool=3_000, vendor_accounts=400, partner_accounts=(60, 250)),
    "small": AccountScale(pool=40_000, vendor_accounts=5_000, partner_accounts=(300, 1_500)),
    "large": AccountScale(pool=2_000_000, vendor_accounts=200_000, partner_accounts=(500, 5_000)),
}


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    domain: str
    duns: str | None


@lru_cache(maxsize=65_536)  # popular companies recur in many orgs' lists
def company(seed: int, index: int) -> Company:
    """Company number `index` of the world of `seed`: same inputs, same company."""
    rng = random.Random(f"{seed}/company/{index}")
    fake = _faker()
    fake.seed_instance(rng.getrandbits(32))
    name = fake.company()
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40] or "company"
    domain = f"{slug}-{_base36(index)}{rng.choice(TLDS)}"
    duns = f"{rng.randrange(10**9):09d}" if rng.random() < 0.6 else None
    return Company(name=name, domain=domain, duns=duns)


def account_count(scale: str, seed: int, org: Org) -> int:
    spec = ACCOUNT_SCALES[scale]
    if OrgType.VENDOR in org.types:
        return spec.vendor_accounts
    low, high = spec.partner_accounts
    return random.Random(f"{seed}/{org.id}/size").randint(low, high)


def accounts_for(scale: str, seed: int, org: Org) -> Iterator[AccountInput]:
    spec = ACCOUNT_SCALES[scale]
    rng = random.Random(f"{seed}/{org.id}/accounts")
    wanted = account_count(scale, seed, org)
    taken: set[int] = set()
    while len(taken) < min(wanted, spec.pool):
        index = int(spec.pool * rng.random() ** SKEW)
        if index in taken:
            continue
        taken.add(index)
        yield _account(rng, seed, index, org)


def _account(rng: random.Random, seed: int, index: int, org: Org) -> AccountInput:
    firm = company(seed, index)
    population = rng.choices([p for p, _ in POPULATIONS], weights=[w for _, w in POPULATIONS])[0]
    domains = [firm.domain]
    if rng.random() < 0.1:  # some records carry a URL or a contact address instead
        domains = [rng.choice([f"https://www.{firm.domain}/about", f"sales@{firm.domain}"])]
    return AccountInput(
        crm_id=f"{org.id[-6:]}-{index:08d}",
        name=firm.name,
        owner=f"rep{rng.randint(1, 12)}@{org.id[-6:].lower()}.example.com",
        populations=(population,),
        domains=tuple(domains),
        duns=(firm.duns,) if firm.duns and rng.random() < 0.5 else (),
        names=(firm.name,) if rng.random() < 0.3 else (),
        fields=(("industry", INDUSTRIES[index % len(INDUSTRIES)]),),
    )


@cache
def _faker() -> Faker:
    """One Faker, re-seeded per company: creating one per call costs milliseconds."""
    return Faker()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
