"""The bundled list of free-mail and generic domains, which are never company keys."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

_DATA_FILE = "free_mail_domains.txt"
_ANY_SUFFIX = ".*"


@dataclass(frozen=True, slots=True)
class FreeMailList:
    domains: frozenset[str]
    # Names listed as "name.*": that name under any public suffix.
    names: frozenset[str]

    def __contains__(self, registrable: object) -> bool:
        if not isinstance(registrable, str):
            return False
        # A registrable domain is exactly one label on top of its public suffix.
        return registrable in self.domains or registrable.partition(".")[0] in self.names


def parse_free_mail(lines: list[str]) -> FreeMailList:
    domains: set[str] = set()
    names: set[str] = set()
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.endswith(_ANY_SUFFIX):
            names.add(entry.removesuffix(_ANY_SUFFIX))
        else:
            domains.add(entry)
    return FreeMailList(frozenset(domains), frozenset(names))


@functools.cache
def free_mail_list() -> FreeMailList:
    text = files("privacy.normalize").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return parse_free_mail(text.splitlines())


def is_free_mail(registrable: str) -> bool:
    """Whether `registrable` (lowercase A-labels) is a free-mail or generic domain."""
    return registrable in free_mail_list()
