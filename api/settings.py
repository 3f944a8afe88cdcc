"""One typed settings object, read from the environment and validated at start.

Every problem is reported as a ConfigurationError with a one-line message naming the
variable, so `tandem serve` can print it and exit instead of dumping a traceback.
"""

from __future__ import annotations

import enum
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from redis.asyncio.connection import parse_url as parse_redis_url

from api.limits import Limits, load_persisted
from graph.errors import ConfigurationError
from graph.factory import backend_of
from graph.model import OrgType
from privacy.keyring import Keyring, KeyringError, parse_secrets
from resolvers.intros.discovery import DEFAULT_COMPLEMENTS, parse_complements
from resolvers.intros.rules import SafetyPolicy
from resolvers.webhooks.config import WebhookConfig
from resolvers.webhooks.retry import RetryPolicy

DEFAULT_STATE_DIR = Path(".tandem")
DEFAULT_STORE_URL = f"sqlite+aiosqlite:///{DEFAULT_STATE_DIR / 'tandem.sqlite3'}"
MIN_SECRET_BYTES = 32

E = TypeVar("E", bound=enum.StrEnum)


class Mode(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Settings:
    mode: Mode
    store_url: str
    identity_url: str
    bcrypt_cost: int
    session_ttl_hours: float
    overlap_k: int
    neo4j_user: str | None
    neo4j_password: str | None
    neo4j_database: str
    secrets: dict[int, bytes]  # key version -> secret; see privacy/keyring.py
    secret_source: str
    readiness_timeout_s: float
    graphiql: bool
    deal_sweep_s: float = 60.0
    intro_policy: SafetyPolicy = field(default_factory=SafetyPolicy)
    complements: Mapping[OrgType, frozenset[OrgType]] = field(
        default_factory=lambda: parse_complements(DEFAULT_COMPLEMENTS)
    )
    limits: Limits = field(default_factory=Limits)
    log_json: bool = True
    tracing: bool = False
    event_broker_url: str | None = None  # None: in-process; else a Redis URL
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    # Every API process dispatches by default; off runs no dispatcher in this process.
    webhook_dispatch: bool = True
    webhook_interval_s: float = 1.0

    @property
    def store_backend(self) -> str:
        return backend_of(self.store_url)

    @property
    def keyring(self) -> Keyring:
        return Keyring.from_secrets(self.secrets)


def load_settings(
    env: Mapping[str, str] | None = None, *, create_dev_secret: bool = True
) -> Settings:
    """Read TANDEM_* variables from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    mode = _enum(env, "TANDEM_MODE", Mode, Mode.DEVELOPMENT)
    store_url = env.get("TANDEM_STORE_URL", DEFAULT_STORE_URL).strip()
    backend_of(store_url)  # validates the scheme
    neo4j_user = env.get("TANDEM_NEO4J_USER") or None
    neo4j_password = env.get("TANDEM_NEO4J_PASSWORD") or None
    if (neo4j_user is None) != (neo4j_password is None):
        raise ConfigurationError("TANDEM_NEO4J_USER and TANDEM_NEO4J_PASSWORD must be set together")
    identity_url = env.get("TANDEM_IDENTITY_URL", "").strip() or (
        store_url if backend_of(store_url) != "neo4j" else DEFAULT_STORE_URL
    )
    if backend_of(identity_url) == "neo4j":
        raise ConfigurationError(
            "TANDEM_IDENTITY_URL must be a SQL URL (sqlite+aiosqlite or postgresql+asyncpg): "
            "identity lives in SQL in every deployment"
        )
    secret, source = _secret(env, mode, create=create_dev_secret)
    return Settings(
        mode=mode,
        store_url=store_url,
        identity_url=identity_url,
        bcrypt_cost=_int_in(env, "TANDEM_BCRYPT_COST", 12, low=4, high=16),
        session_ttl_hours=_positive_float(env, "TANDEM_SESSION_TTL_HOURS", 12.0),
        overlap_k=_int_in(env, "TANDEM_OVERLAP_K", 5, low=2, high=1000),
        neo4j_user=neo4j_user,
        neo4j_password=neo4j_password,
        neo4j_database=env.get("TANDEM_NEO4J_DATABASE", "neo4j"),
        secrets=secret,
        secret_source=source,
        readiness_timeout_s=_positive_float(env, "TANDEM_READINESS_TIMEOUT", 2.0),
        graphiql=_bool(env, "TANDEM_GRAPHIQL", mode is Mode.DEVELOPMENT),
        deal_sweep_s=_positive_float(env, "TANDEM_DEAL_SWEEP_SECONDS", 60.0),
        intro_policy=SafetyPolicy(
            expiry=timedelta(days=_int_in(env, "TANDEM_INTRO_EXPIRY_DAYS", 30, low=1, high=365)),
            daily_requests=_int_in(env, "TANDEM_INTRO_DAILY_LIMIT", 20, low=1, high=10_000),
            cooling_off=timedelta(
                days=_int_in(env, "TANDEM_INTRO_COOLING_OFF_DAYS", 90, low=0, high=3650)
            ),
        ),
        complements=parse_complements(env.get("TANDEM_COMPLEMENTS", DEFAULT_COMPLEMENTS)),
        limits=_limits(env, mode),
        log_json=_enum(env, "TANDEM_LOG_FORMAT", LogFormat, LogFormat.JSON) is LogFormat.JSON,
        tracing=_bool(env, "TANDEM_TRACING", False),
        event_broker_url=_event_broker(env),
        webhooks=_webhooks(env, mode),
        webhook_dispatch=_bool(env, "TANDEM_WEBHOOK_DISPATCH", True),
        webhook_interval_s=_positive_float(env, "TANDEM_WEBHOOK_INTERVAL_SECONDS", 1.0),
    )


def _webhooks(env: Mapping[str, str], mode: Mode) -> WebhookConfig:
    base = _positive_float(env, "TANDEM_WEBHOOK_RETRY_BASE_SECONDS", 60.0)
    cap = _positive_float(env, "TANDEM_WEBHOOK_RETRY_CAP_SECONDS", 6 * 3600.0)
    if cap < base:
        raise ConfigurationError(
            "TANDEM_WEBHOOK_RETRY_CAP_SECONDS must not be below TANDEM_WEBHOOK_RETRY_BASE_SECONDS"
        )
    allow_http = _bool(env, "TANDEM_WEBHOOK_ALLOW_HTTP_LOOPBACK", mode is Mode.DEVELOPMENT)
    if allow_http and mode is Mode.PRODUCTION:
        raise ConfigurationError(
            "TANDEM_WEBHOOK_ALLOW_HTTP_LOOPBACK is for development: production endpoints "
            "are https only"
        )
    return WebhookConfig(
        retry=RetryPolicy(
            base_s=base,
            cap_s=cap,
            max_attempts=_int_in(env, "TANDEM_WEBHOOK_MAX_ATTEMPTS", 12, low=1, high=50),
        ),
        timeout_s=_positive_float(env, "TANDEM_WEBHOOK_TIMEOUT_SECONDS", 10.0),
        concurrency=_int_in(env, "TANDEM_WEBHOOK_CONCURRENCY", 8, low=1, high=256),
        max_endpoints=_int_in(env, "TANDEM_WEBHOOK_MAX_ENDPOINTS", 10, low=1, high=1_000),
        allow_http_loopback=allow_http,
    )


def _event_broker(env: Mapping[str, str]) -> str | None:
    """TANDEM_EVENT_BROKER: unset, empty or `in-process` for this process alone, or a
    Redis URL (redis://, rediss://, unix://) shared by every API process."""
    raw = env.get("TANDEM_EVENT_BROKER", "").strip()
    if raw in ("", "in-process"):
        return None
    scheme, _, rest = raw.partition("://")
    try:
        if scheme not in ("redis", "rediss", "unix") or not rest:
            raise ValueError(raw)
        parse_redis_url(raw)  # a port that is no number, a db that is no number, ...
    except ValueError:
        shown = f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else raw
        raise ConfigurationError(
            f"TANDEM_EVENT_BROKER={shown!r} is not an event broker: leave it unset for the "
            "in-process one, or give a Redis URL (redis://HOST:PORT/DB, rediss://..., "
            "unix://PATH)"
        ) from None
    return raw


def _limits(env: Mapping[str, str], mode: Mode) -> Limits:
    path = env.get("TANDEM_PERSISTED_QUERIES", "").strip()
    persisted = load_persisted(Path(path)) if path else {}
    persisted_only = _bool(env, "TANDEM_PERSISTED_QUERIES_ONLY", False)
    if persisted_only and not persisted:
        raise ConfigurationError(
            "TANDEM_PERSISTED_QUERIES_ONLY needs TANDEM_PERSISTED_QUERIES (a non-empty allow-list)"
        )
    return Limits(
        max_depth=_int_in(env, "TANDEM_MAX_DEPTH", 12, low=2, high=100),
        max_tokens=_int_in(env, "TANDEM_MAX_TOKENS", 2_000, low=50, high=1_000_000),
        max_aliases=_int_in(env, "TANDEM_MAX_ALIASES", 30, low=0, high=10_000),
        max_cost=_int_in(env, "TANDEM_MAX_COST", 50_000, low=10, high=1_000_000_000),
        max_body_bytes=_int_in(
            env, "TANDEM_MAX_BODY_BYTES", 4_000_000, low=1_024, high=1_000_000_000
        ),
        timeout_s=_positive_float(env, "TANDEM_REQUEST_TIMEOUT", 15.0),
        introspection=_bool(env, "TANDEM_INTROSPECTION", mode is Mode.DEVELOPMENT),
        persisted_only=persisted_only,
        persisted=persisted,
    )


def _secret(env: Mapping[str, str], mode: Mode, *, create: bool) -> tuple[dict[int, bytes], str]:
    """The server secrets: TANDEM_SECRET, else TANDEM_SECRET_FILE, else in development a
    generated file under .tandem/ (0600). Production never generates one. Either holds
    one hex secret (key version 1) or `VERSION:HEX` entries, one per key version."""
    if raw := env.get("TANDEM_SECRET"):
        return _decode_secret(raw, "TANDEM_SECRET"), "TANDEM_SECRET"
    path_text = env.get("TANDEM_SECRET_FILE")
    if path_text:
        path = Path(path_text)
        if not path.is_file():
            raise ConfigurationError(f"TANDEM_SECRET_FILE {path} does not exist")
        return _decode_secret(path.read_text(), "TANDEM_SECRET_FILE"), str(path)
    if mode is Mode.PRODUCTION:
        raise ConfigurationError(
            "missing secret: set TANDEM_SECRET (64 hex characters) or TANDEM_SECRET_FILE; "
            "production mode never generates one"
        )
    path = DEFAULT_STATE_DIR / "secret"
    if not path.exists():
        if not create:
            raise ConfigurationError(f"no secret yet at {path}: run `tandem serve` once")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
    return _decode_secret(path.read_text(), str(path)), f"{path} (generated for development)"


def _decode_secret(raw: str, source: str) -> dict[int, bytes]:
    try:
        secrets_by_version = parse_secrets(raw)
        Keyring.from_secrets(secrets_by_version)
    except KeyringError as error:
        raise ConfigurationError(f"{source}: {error}") from None
    for version, value in secrets_by_version.items():
        if len(value) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"{source}: the secret of key version {version} must hold at least "
                f"{MIN_SECRET_BYTES} bytes"
            )
    return secrets_by_version


def _enum(env: Mapping[str, str], name: str, kind: type[E], default: E) -> E:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return kind(raw.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ConfigurationError(f"{name}={raw!r} is not one of: {choices}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (true/false)")


def _int_in(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive")
    return value
