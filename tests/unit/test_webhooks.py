"""Webhooks without a store: the signing scheme, the retry schedule, URL rules, and one
attempt's outcome against scripted HTTP answers."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.settings import load_settings
from graph.errors import ConfigurationError
from graph.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    DueDelivery,
    WebhookDelivery,
    WebhookEventType,
)
from resolvers.webhooks.config import WebhookConfig
from resolvers.webhooks.dispatcher import Resolve, destination_problem, post
from resolvers.webhooks.endpoints import IPAddress, new_secret, url_problem
from resolvers.webhooks.retry import RetryPolicy
from resolvers.webhooks.signing import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    event_body,
    sign,
    signed_headers,
    verify,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = new_secret()


def delivery(**changes: object) -> WebhookDelivery:
    fields: dict[str, object] = {
        "id": "01DELIVERY",
        "org_id": "01ORG",
        "endpoint_id": "01ENDPOINT",
        "event_id": "01EVENT",
        "event_type": WebhookEventType.DEAL_REGISTRATION,
        "payload": {"registration_id": "01REG", "from_status": None, "status": "APPROVED"},
        "event_at": NOW,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }
    fields.update(changes)
    return WebhookDelivery(**fields)  # type: ignore[arg-type]


def headers_for(body: bytes, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    return signed_headers(
        secret,
        delivery_id="01DELIVERY",
        event_type="DEAL_REGISTRATION",
        attempt=1,
        body=body,
        timestamp=int(at.timestamp()),
    )


# --- signing ------------------------------------------------------------------------------


def test_the_body_is_the_documented_event() -> None:
    body = json.loads(event_body(delivery()))
    assert body == {
        "id": "01EVENT",
        "type": "DEAL_REGISTRATION",
        "createdAt": "2026-03-01T12:00:00+00:00",
        "orgId": "01ORG",
        "data": {"registration_id": "01REG", "from_status": None, "status": "APPROVED"},
    }


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    """The documented recipe, spelled out independently of sign()."""
    import hashlib
    import hmac

    body = event_body(delivery())
    headers = headers_for(body)
    expected = hmac.new(
        SECRET.encode(), f"{int(NOW.timestamp())}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"v1={expected}"
    assert headers[TIMESTAMP_HEADER] == str(int(NOW.timestamp()))
    assert headers[ID_HEADER] == "01DELIVERY"


def test_verify_accepts_ours_with_any_header_case() -> None:
    body = event_body(delivery())
    headers = {k.lower(): v for k, v in headers_for(body).items()}
    verify(SECRET, headers, body, now=NOW + timedelta(seconds=299))
    verify(SECRET, headers_for(body), body, now=(NOW - timedelta(seconds=299)).timestamp())


def test_verify_accepts_any_of_several_signatures() -> None:
    """Secret rotation: the header may carry one signature per live secret."""
    body = event_body(delivery())
    headers = headers_for(body)
    old = sign("old secret", int(NOW.timestamp()), body)
    headers[SIGNATURE_HEADER] = f"v1={old} {headers[SIGNATURE_HEADER]} v0=ignored"
    verify(SECRET, headers, body, now=NOW)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered body", "no valid v1 signature"),
        ("wrong secret", "no valid v1 signature"),
        ("stale", "outside the tolerance"),
        ("future", "outside the tolerance"),
        ("timestamp moved", "no valid v1 signature"),
        ("no signature", "missing"),
        ("other scheme", "no valid v1 signature"),
        ("garbage timestamp", "whole number"),
        ("non-ascii signature", "no valid v1 signature"),
    ],
)
def test_verify_rejects(case: str, reason: str) -> None:
    body = event_body(delivery())
    headers = headers_for(body)
    secret, now = SECRET, NOW
    if case == "tampered body":
        body = body.replace(b"APPROVED", b"REJECTED")
    elif case == "wrong secret":
        secret = new_secret()
    elif case == "stale":
        now = NOW + timedelta(seconds=301)
    elif case == "future":
        now = NOW - timedelta(seconds=301)
    elif case == "timestamp moved":
        # A replay with a fresh timestamp but the old signature.
        headers[TIMESTAMP_HEADER] = str(int(NOW.timestamp()) + 60)
        now = NOW + timedelta(seconds=60)
    elif case == "no signature":
        del headers[SIGNATURE_HEADER]
    elif case == "other scheme":
        headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].replace("v1=", "v2=")
    elif case == "garbage timestamp":
        headers[TIMESTAMP_HEADER] = "yesterday"
    elif case == "non-ascii signature":
        headers[SIGNATURE_HEADER] = "v1=ä" * 3
    with pytest.raises(SignatureError, match=reason):
        verify(secret, headers, body, now=now)


def test_secrets_are_long_random_and_prefixed() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("tdm_whsec_")
    assert len(first) >= len("tdm_whsec_") + 43  # 32 random bytes, base64url


# --- retry schedule -----------------------------------------------------------------------


class Fixed:
    """A 'random' source that always answers the same number."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_bound_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=10, cap_s=100, max_attempts=10)
    assert [policy.bound_s(n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]
    assert policy.bound_s(10_000) == 100  # no overflow however many attempts


def test_full_jitter_spans_zero_to_the_bound() -> None:
    policy = RetryPolicy(base_s=10, cap_s=100, max_attempts=10)
    assert policy.delay_s(3, Fixed(0.0)) == 0
    assert policy.delay_s(3, Fixed(0.5)) == 20
    assert policy.delay_s(3, Fixed(0.999)) == pytest.approx(39.96)


@given(
    attempts=st.integers(min_value=1, max_value=200),
    seed=st.integers(min_value=0, max_value=2**32),
    base=st.floats(min_value=0.001, max_value=1_000),
    factor=st.floats(min_value=1, max_value=10_000),
)
def test_delays_stay_within_zero_and_the_cap(
    attempts: int, seed: int, base: float, factor: float
) -> None:
    policy = RetryPolicy(base_s=base, cap_s=base * factor, max_attempts=500)
    delay = policy.delay_s(attempts, random.Random(seed))
    assert 0 <= delay <= min(policy.cap_s, base * 2 ** (attempts - 1))


def test_a_seeded_rng_makes_the_schedule_deterministic() -> None:
    policy = RetryPolicy(base_s=1, cap_s=60, max_attempts=8)
    runs = [
        [policy.next_attempt_at(n, now=NOW, rng=rng) for n in range(1, 8)]
        for rng in (random.Random(7), random.Random(7))
    ]
    assert runs[0] == runs[1]
    assert all(at is not None and at >= NOW for at in runs[0])


def test_attempts_run_out_at_the_maximum() -> None:
    policy = RetryPolicy(base_s=1, cap_s=60, max_attempts=3)
    assert policy.next_attempt_at(1, now=NOW, rng=Fixed(0.5)) == NOW + timedelta(seconds=0.5)
    assert policy.next_attempt_at(2, now=NOW, rng=Fixed(0.5)) == NOW + timedelta(seconds=1)
    assert policy.next_attempt_at(3, now=NOW, rng=Fixed(0.5)) is None
    assert policy.next_attempt_at(4, now=NOW, rng=Fixed(0.5)) is None  # after a redelivery


@pytest.mark.parametrize(
    ("base", "cap", "attempts"), [(0, 10, 3), (10, 5, 3), (1, 10, 0), (-1, 10, 3)]
)
def test_nonsense_policies_are_refused(base: float, cap: float, attempts: int) -> None:
    with pytest.raises(ValueError, match="retry"):
        RetryPolicy(base_s=base, cap_s=cap, max_attempts=attempts)


def test_settings_read_the_schedule_and_refuse_http_in_production() -> None:
    base_env = {"TANDEM_SECRET": "ab" * 32, "TANDEM_STORE_URL": "sqlite+aiosqlite:///x.db"}
    settings = load_settings(
        {
            **base_env,
            "TANDEM_WEBHOOK_RETRY_BASE_SECONDS": "2",
            "TANDEM_WEBHOOK_RETRY_CAP_SECONDS": "30",
            "TANDEM_WEBHOOK_MAX_ATTEMPTS": "4",
            "TANDEM_WEBHOOK_INTERVAL_SECONDS": "0.5",
        }
    )
    assert settings.webhooks.retry == RetryPolicy(base_s=2, cap_s=30, max_attempts=4)
    assert settings.webhook_interval_s == 0.5
    assert settings.webhooks.allow_http_loopback  # development mode
    production = load_settings({**base_env, "TANDEM_MODE": "production"})
    assert not production.webhooks.allow_http_loopback
    with pytest.raises(ConfigurationError, match="https only"):
        load_settings(
            {**base_env, "TANDEM_MODE": "production", "TANDEM_WEBHOOK_ALLOW_HTTP_LOOPBACK": "1"}
        )
    with pytest.raises(ConfigurationError, match="CAP"):
        load_settings({**base_env, "TANDEM_WEBHOOK_RETRY_CAP_SECONDS": "1"})


# --- endpoint URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/tandem",
        "https://hooks.example.com:8443/t?x=1",
        "https://[2606:4700::1111]/hook",
        "https://1.1.1.1/hook",
    ],
)
def test_public_https_urls_are_fine(url: str) -> None:
    assert url_problem(url, allow_http_loopback=False) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/t", "https"),
        ("ftp://hooks.example.com/t", "https"),
        ("https:///no-host", "https"),
        ("hooks.example.com/t", "https"),
        ("", "characters"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://" + "a" * 2050 + ".com", "characters"),
        ("https://user:pw@hooks.example.com/t", "credentials"),
        ("https://hooks.example.com/t#frag", "fragment"),
        ("https://hooks.example.com:99999/t", "valid"),
        ("https://127.0.0.1/t", "loopback"),
        ("https://localhost/t", "loopback"),
        ("http://127.0.0.1:8080/t", "https"),  # loopback http needs the setting
        ("https://10.0.0.8/t", "private"),
        ("https://192.168.1.1/t", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),  # cloud metadata
        ("https://[::ffff:10.0.0.1]/t", "private"),
        ("https://[fe80::1]/t", "private"),
        ("https://0.0.0.0/t", "private"),
        ("https://224.0.0.1/t", "private"),
        ("https://intranet/t", "fully qualified"),
    ],
)
def test_bad_urls_are_refused(url: str, problem: str) -> None:
    found = url_problem(url, allow_http_loopback=False)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "http://localhost:9000/", "http://[::1]:8000/"]
)
def test_loopback_http_only_with_the_setting(url: str) -> None:
    assert url_problem(url, allow_http_loopback=True) is None
    assert url_problem(url, allow_http_loopback=False) is not None


def test_http_to_a_public_host_stays_refused_with_the_setting() -> None:
    assert url_problem("http://hooks.example.com/", allow_http_loopback=True) == (
        "url must use https"
    )


# --- one attempt, against scripted answers (no network, no store) -------------------------


def due(url: str = "https://hooks.example.com/t", attempts: int = 0) -> DueDelivery:
    return DueDelivery(delivery=delivery(attempts=attempts), url=url, secret=SECRET)


async def public(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address("93.184.216.34")]


async def private(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.2.3")]


async def attempt_with(
    handler: httpx.MockTransport, resolve: Resolve = public
) -> tuple[AttemptOutcome, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler.handle_request(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
        outcome = await post(
            client,
            due(),
            WebhookConfig(),
            clock=lambda: NOW,
            resolve=resolve,
        )
    return outcome, seen


async def test_a_2xx_succeeds_and_the_request_verifies() -> None:
    outcome, seen = await attempt_with(httpx.MockTransport(lambda r: httpx.Response(204)))
    assert outcome.succeeded
    assert outcome.status_code == 204
    (request,) = seen
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    verify(SECRET, dict(request.headers), request.content, now=NOW)


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, "HTTP 500"), (410, "HTTP 410"), (302, "HTTP 302 (redirects are not followed)")],
)
async def test_other_statuses_fail_without_keeping_the_body(status: int, error: str) -> None:
    answer = httpx.Response(status, text="secret stack trace", headers={"location": "/x"})
    outcome, _ = await attempt_with(httpx.MockTransport(lambda r: answer))
    assert not outcome.succeeded
    assert outcome.status_code == status
    assert outcome.error == error


async def test_a_connection_failure_is_kept_short() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused " + "x" * 500, request=request)

    outcome, _ = await attempt_with(httpx.MockTransport(refuse))
    assert outcome.status_code is None
    assert outcome.error.startswith("ConnectError: connection refused")
    assert len(outcome.error) <= 200


async def test_a_host_resolving_inside_the_network_is_not_posted_to() -> None:
    outcome, seen = await attempt_with(
        httpx.MockTransport(lambda r: httpx.Response(200)), resolve=private
    )
    assert seen == []
    assert not outcome.succeeded
    assert "private" in outcome.error


async def test_loopback_destinations_follow_the_setting() -> None:
    url = "http://127.0.0.1:9/hook"
    assert await destination_problem(url, allow_loopback=True, resolve=public) is None
    refused = await destination_problem(url, allow_loopback=False, resolve=public)
    assert refused is not None
    assert "loopback" in refused


def test_the_documented_receiver_snippet_verifies_our_requests() -> None:
    """docs/webhooks.md's standalone verify() agrees with ours: receivers copy it."""
    import re
    import time
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", docs, flags=re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)  # noqa: S102
    documented = namespace["verify"]
    assert callable(documented)
    body = event_body(delivery())
    headers = headers_for(body, at=datetime.fromtimestamp(time.time(), UTC))
    assert documented(SECRET, headers, body) is True
    assert documented(SECRET, headers, body + b" ") is False
    assert documented(new_secret(), headers, body) is False
    stale = headers_for(body, at=datetime.fromtimestamp(time.time() - 301, UTC))
    assert documented(SECRET, stale, body) is False
