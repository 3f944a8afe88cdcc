"""Find the host name in what people paste as a "domain": URLs, e-mail addresses, hosts."""

from __future__ import annotations

import ipaddress
import re

from graph.model import KeyKind

from .errors import KeyRejected

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
# mailto: and similar have no "//"; only the ones people actually paste are worth knowing.
_OPAQUE_SCHEME = re.compile(r"(?:mailto|xmpp|sip|sips):", re.IGNORECASE)
# A backslash ends the authority too: browsers treat it as "/" in http(s) URLs.
_AUTHORITY_END = re.compile(r"[/?#\\]")
_PORT = re.compile(r":[0-9]*\Z")
# WHATWG URL parsing reads a host whose last label is numeric ("127.1", "0x7f.1") as IPv4.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\Z", re.IGNORECASE)


def host_of(text: str) -> str:
    """The host part of a URL (any scheme), an e-mail address or a bare host name.

    User-info, port, path, query and fragment are dropped. The host keeps its case and
    script; IDNA processing comes later. IP addresses are rejected here, since only here
    are brackets and ports still distinguishable from the address.
    """
    rest = text
    # "Jane Doe <jane@acme.com>", as mail clients and CRM exports write addresses.
    if rest.endswith(">") and "<" in rest:
        rest = rest[rest.rindex("<") + 1 : -1].strip()
    if (match := _SCHEME.match(rest)) or (match := _OPAQUE_SCHEME.match(rest)):
        rest = rest[match.end() :]
    elif rest.startswith("//"):
        rest = rest[2:]
    # The path may contain "@" (https://example.com/@user), so cut it off before looking
    # for user-info; the e-mail local part is user-info for this purpose.
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    reject_ip(host)
    host = _PORT.sub("", host)
    if not host:
        raise KeyRejected(KeyKind.DOMAIN, "no host name found")
    return host


def reject_ip(host: str) -> None:
    """KeyRejected if `host` is, or would be read by a browser as, an IP address.

    Worth calling again after IDNA mapping: full-width digits and dots map to ASCII ones.
    """
    candidate = host
    if ":" not in candidate and not _NUMERIC_LABEL.match(candidate.rstrip(".").rpartition(".")[2]):
        return  # IPv4 forms end in a numeric label and IPv6 ones hold a colon
    if candidate.startswith("["):
        candidate = candidate[1:].partition("]")[0]
    elif candidate.count(":") == 1:
        candidate = candidate.partition(":")[0]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        last_label = candidate.rstrip(".").rpartition(".")[2]
        if not _NUMERIC_LABEL.match(last_label):
            return
    raise KeyRejected(KeyKind.DOMAIN, "an IP address, not a domain name")
