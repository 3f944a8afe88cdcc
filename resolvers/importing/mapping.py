"""Which CSV column feeds which account field, for common CRM exports.

Column names are matched case-insensitively, ignoring surrounding spaces; each target
lists candidate headers in order of preference, since exports differ by locale and
edition. `--map TARGET=COLUMN[,COLUMN...]` overrides or extends a preset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from graph.errors import BadInput
from resolvers.accounts import AccountInput

TARGETS = ("crm_id", "name", "owner", "domains", "duns", "legal_names", "populations", "fields")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    crm_id: tuple[str, ...]
    name: tuple[str, ...]
    owner: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    duns: tuple[str, ...] = ()
    legal_names: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # kept as the org's private fields, by header
    # CRM values of the population column -> tandem populations (others pass through).
    population_values: Mapping[str, str] = field(default_factory=dict)


PRESETS: dict[str, ColumnMap] = {
    "tandem": ColumnMap(
        crm_id=("crm_id",),
        name=("name",),
        owner=("owner",),
        domains=("domain", "domains"),
        duns=("duns",),
        legal_names=("legal_name",),
        populations=("population", "populations"),
    ),
    "salesforce": ColumnMap(
        crm_id=("Account ID", "Id", "Account Id"),
        name=("Account Name", "Name"),
        owner=("Account Owner", "Owner Email", "Owner"),
        domains=("Website", "Email Domain"),
        duns=("D-U-N-S Number", "DunsNumber", "DUNS Number"),
        legal_names=("Legal Name",),
        populations=("Type", "Account Type"),
        fields=("Industry", "Billing Country", "BillingCountry", "Annual Revenue"),
        population_values={
            "customer": "CUSTOMER",
            "customer - direct": "CUSTOMER",
            "customer - channel": "CUSTOMER",
            "prospect": "PROSPECT",
            "former customer": "CHURNED",
            "churned": "CHURNED",
        },
    ),
    "hubspot": ColumnMap(
        crm_id=("Record ID", "Company ID", "hs_object_id"),
        name=("Company name", "Name"),
        owner=("Company owner", "HubSpot Owner"),
        domains=("Company Domain Name", "Website URL", "domain"),
        legal_names=("Legal name",),
        populations=("Lifecycle Stage", "lifecyclestage"),
        fields=("Industry", "Country/Region", "Annual Revenue"),
        population_values={
            "customer": "CUSTOMER",
            "opportunity": "OPEN_OPPORTUNITY",
            "lead": "PROSPECT",
            "subscriber": "PROSPECT",
            "marketing qualified lead": "PROSPECT",
            "sales qualified lead": "PROSPECT",
            "marketingqualifiedlead": "PROSPECT",
            "salesqualifiedlead": "PROSPECT",
            "former customer": "CHURNED",
        },
    ),
}


def with_overrides(base: ColumnMap, overrides: Sequence[str]) -> ColumnMap:
    """Apply `TARGET=COLUMN[,COLUMN...]` overrides to a preset."""
    changes: dict[str, tuple[str, ...]] = {}
    for item in overrides:
        target, sep, columns = item.partition("=")
        target = target.strip().lower()
        if not sep or target not in TARGETS:
            raise BadInput(f"--map {item!r}: use TARGET=COLUMN with TARGET in {', '.join(TARGETS)}")
        names = tuple(c.strip() for c in columns.split(",") if c.strip())
        if not names:
            raise BadInput(f"--map {item!r} names no column")
        changes[target] = names
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class BoundMap:
    """A ColumnMap resolved against one file's header row: positions, found once."""

    columns: ColumnMap
    positions: Mapping[str, tuple[int, ...]]  # target -> column positions, by preference
    field_positions: tuple[tuple[str, int], ...]  # (header, position) of private fields

    def row(self, values: Sequence[str]) -> AccountInput:
        width = len(values)

        def cells(target: str) -> list[str]:
            return [
                value
                for position in self.positions[target]
                if position < width and (value := values[position].strip())
            ]

        def first(target: str) -> str:
            found = cells(target)
            return found[0] if found else ""

        translate = self.columns.population_values
        populations = tuple(
            translate.get(p.strip().casefold(), p.strip())
            for cell in cells("populations")
            for p in cell.split(";")
            if p.strip()
        )
        fields = tuple(
            (header, value)
            for header, position in self.field_positions
            if position < width and (value := values[position].strip())
        )
        return AccountInput(
            crm_id=first("crm_id"),
            name=first("name"),
            owner=first("owner") or None,
            populations=populations,
            domains=tuple(d for cell in cells("domains") for d in cell.split(";")),
            duns=tuple(cells("duns")),
            names=tuple(cells("legal_names")),
            fields=fields,
        )


def bind(columns: ColumnMap, header: Sequence[str]) -> BoundMap:
    index = {_fold(h): i for i, h in enumerate(header)}

    def found(target: str) -> tuple[int, ...]:
        headers: tuple[str, ...] = getattr(columns, target)
        return tuple(index[_fold(h)] for h in headers if _fold(h) in index)

    positions = {t: found(t) for t in TARGETS if t != "fields"}
    missing = [t for t in ("crm_id", "name") if not positions[t]]
    if missing:
        wanted = "; ".join(f"{t}: one of {list(getattr(columns, t))}" for t in missing)
        raise BadInput(f"the file has no column for {wanted} (use --map)")
    field_positions = tuple((h, index[_fold(h)]) for h in columns.fields if _fold(h) in index)
    return BoundMap(columns, positions, field_positions)


def _fold(header: str) -> str:
    return header.strip().casefold()
