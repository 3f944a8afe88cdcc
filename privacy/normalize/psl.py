"""Registrable domains (eTLD+1) from the Public Suffix List snapshot bundled with the
`publicsuffixlist` package. Nothing here touches the network: the snapshot is read from the
installed package, and refreshing it means upgrading that package.
"""

from __future__ import annotations

import functools

from publicsuffixlist import PSLFILE, PublicSuffixList

from .errors import KeyRejected
from .hosts import reject_ip
from .idn import to_ascii


@functools.cache
def _suffix_list() -> PublicSuffixList:
    # Private-section suffixes (github.io, blogspot.com) count: acme.github.io is Acme's,
    # not GitHub's. Unlisted TLDs fall under the PSL's default "*" rule (accept_unknown),
    # as the PSL's own test vectors require.
    with open(PSLFILE, "rb") as bundled:
        return PublicSuffixList(bundled, accept_unknown=True, only_icann=False)


def registrable_domain(host: str) -> str | None:
    """The registrable domain of `host` in lowercase A-labels, or None.

    None when `host` is a public suffix itself (`co.uk`), or is no valid host name at all.
    This is the PSL part of `normalize_domain`, without its free-mail filter and reasons.
    """
    try:
        ascii_host = to_ascii(host)
        reject_ip(ascii_host)
    except KeyRejected:
        return None
    return registrable_part(ascii_host)


def registrable_part(ascii_host: str) -> str | None:
    """Like `registrable_domain` for a host already validated and in A-labels."""
    return _suffix_list().privatesuffix(ascii_host)


def public_suffix_of(ascii_domain: str) -> str | None:
    """The public suffix ending `ascii_domain` (`co.uk` for `acme.co.uk`)."""
    return _suffix_list().publicsuffix(ascii_domain)
