"""Population names: the standard four plus org-defined custom ones."""

from __future__ import annotations

import unicodedata

STANDARD_POPULATIONS = ("CUSTOMER", "OPEN_OPPORTUNITY", "PROSPECT", "CHURNED")
MAX_POPULATION_LENGTH = 64

# Fields an org may choose to share at DETAILS level.
SHAREABLE_FIELDS = ("owner", "owner_email", "stage", "industry", "region", "crm_id")


def population_problem(name: str) -> str | None:
    """Why `name` cannot name a population, or None."""
    if not name or not name.strip():
        return "must not be empty"
    if name != name.strip():
        return "must not start or end with white space"
    if len(name) > MAX_POPULATION_LENGTH:
        return f"must be at most {MAX_POPULATION_LENGTH} characters"
    if not name.isprintable() and any(unicodedata.category(ch).startswith("C") for ch in name):
        return "must not contain control characters"
    return None


def fields_problem(fields: tuple[str, ...]) -> str | None:
    unknown = sorted(set(fields) - set(SHAREABLE_FIELDS))
    if unknown:
        return f"unknown fields {unknown}; shareable: {list(SHAREABLE_FIELDS)}"
    return None
