"""Matching keys to canonical form: registrable web domains, D-U-N-S numbers, company names.

Pure functions, no I/O beyond reading bundled data. Each is idempotent on what it
accepts, and refuses everything else with KeyRejected, whose reason can be shown to users
and never contains the raw key.
"""

from __future__ import annotations

from .domains import normalize_domain
from .duns import normalize_duns
from .errors import KeyRejected
from .keys import canonical_keys, normalize_key
from .names import normalize_name
from .psl import registrable_domain

__all__ = [
    "KeyRejected",
    "canonical_keys",
    "normalize_domain",
    "normalize_duns",
    "normalize_key",
    "normalize_name",
    "registrable_domain",
]
