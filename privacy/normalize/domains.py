"""Web domains as company keys: whatever was pasted, down to its registrable domain."""

from __future__ import annotations

from graph.model import KeyKind

from .errors import KeyRejected
from .freemail import is_free_mail
from .hosts import host_of, reject_ip
from .idn import to_ascii
from .psl import registrable_part
from .text import checked_text

# Room for a URL with a long query string; anything longer is not a pasted domain.
MAX_RAW_CHARS = 2048

# Names that are never a company's public web domain (RFC 2606, 6761, 6762, 9476; ICANN's
# .internal; .arpa is DNS infrastructure), though the PSL's default rule would happily
# give most of them a registrable domain.
_SPECIAL_USE_TLDS = frozenset(
    {"alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion", "test"}
)


def normalize_domain(raw: str) -> str:
    """The registrable domain (eTLD+1) of a domain, URL or e-mail address, or KeyRejected.

    The result is lowercase A-labels without a trailing dot: `https://WWW.Bücher.example.de/`
    and `xn--bcher-kva.example.de.` both give `example.de`.
    """
    text = checked_text(KeyKind.DOMAIN, raw, max_chars=MAX_RAW_CHARS)
    ascii_host = to_ascii(host_of(text))
    reject_ip(ascii_host)
    tld = ascii_host.rpartition(".")[2]
    if tld in _SPECIAL_USE_TLDS:
        raise KeyRejected(KeyKind.DOMAIN, "a reserved or local-only name, not a public domain")
    registrable = registrable_part(ascii_host)
    if registrable is None:
        raise KeyRejected(
            KeyKind.DOMAIN, "a public suffix (like co.uk or github.io), not a company's domain"
        )
    if is_free_mail(registrable):
        raise KeyRejected(KeyKind.DOMAIN, "free-mail or generic domain, not a company key")
    return registrable
