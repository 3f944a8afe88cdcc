"""The ASCII fast path of IDNA processing must agree with the full UTS #46 path."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from privacy.normalize.idn import _plain_ascii, _uts46

LDH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"


@given(st.lists(st.text(alphabet=LDH, min_size=1, max_size=70), min_size=1, max_size=5))
def test_the_plain_ascii_fast_path_agrees_with_full_uts46(labels: list[str]) -> None:
    host = ".".join(labels)
    fast = _plain_ascii(host)
    if fast is not None:
        assert fast == _uts46(host)


def test_the_fast_path_declines_what_it_cannot_vouch_for() -> None:
    for host in ("xn--bcher-kva.de", "ab--cd.com", "-lead.com", "trail-.com", "bücher.de"):
        assert _plain_ascii(host) is None
    assert _plain_ascii("WWW.Example.COM.") == "www.example.com"
