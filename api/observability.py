"""Request ids, one structured JSON log line per request, Prometheus metrics, and the
OpenTelemetry hook (off by default).

What is logged is an allow-list: request id, method, path (never the query string: GET
carries variables there), status, duration, GraphQL operation name and type, error codes.
Never headers, tokens, passwords, raw keys, variables or their values.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

access_log = logging.getLogger("tandem.access")

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 200  # distinct operation names kept as labels; the rest are "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
S = TypeVar("S")


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    operation_name: str | None = None
    operation_type: str | None = None
    error_codes: list[str] = field(default_factory=list)


current_request: ContextVar[RequestRecord | None] = ContextVar("tandem_request", default=None)


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-Id when it is sane (short, no spaces or control
    characters), else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                break
            if _SANE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tandem_requests",
            "HTTP requests by GraphQL operation and status.",
            ["operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tandem_request_duration_seconds",
            "Request latency by GraphQL operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "tandem_graphql_errors",
            "GraphQL errors by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.store_calls = Histogram(
            "tandem_store_call_duration_seconds",
            "Store call latency by store (graph, identity), backend and port method.",
            ["store", "backend", "method"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "tandem_store_errors",
            "Store calls that raised, by store, backend, port method and error class.",
            ["store", "backend", "method", "error"],
            registry=self.registry,
        )
        self._operations: set[str] = set()

    def operation_label(self, record: RequestRecord | None, path: str) -> str:
        if record is None or record.operation_type is None:
            return path if path in ("/graphql", "/healthz", "/readyz", "/metrics") else "other"
        name = record.operation_name
        if name is None or not _SAFE_NAME.match(name):
            return f"{record.operation_type}:anonymous"
        label = f"{record.operation_type}:{name}"
        if label not in self._operations:
            if len(self._operations) >= MAX_OPERATION_LABELS:
                return f"{record.operation_type}:other"
            self._operations.add(label)
        return label

    async def endpoint(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def port_methods(port: type) -> frozenset[str]:
    """The coroutine methods a store port (a Protocol) declares, its bases' included:
    the fixed set of `method` labels."""
    return frozenset(
        name
        for name, member in inspect.getmembers(port, inspect.iscoroutinefunction)
        if not name.startswith("_")
    )


def timed(inner: S, *, metrics: Metrics, store: str, backend: str, port: type) -> S:
    """`inner` with every call of a `port` method timed into tandem_store_call_duration_
    seconds (and counted into tandem_store_errors when it raises). Anything else the
    store has is passed through untouched, so callers see the same object."""
    return cast(S, _Timed(inner, metrics, store, backend, port_methods(port)))


class _Timed:
    def __init__(
        self, inner: object, metrics: Metrics, store: str, backend: str, methods: frozenset[str]
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._store = store
        self._backend = backend
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in self._methods or not inspect.iscoroutinefunction(value):
            return value
        method = self._time(name, value)
        setattr(self, name, method)  # bound once; __getattr__ is not asked again
        return method

    def _time(self, name: str, method: Any) -> Any:
        duration = self._metrics.store_calls.labels(self._store, self._backend, name)
        errors = self._metrics.store_errors

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            except Exception as error:
                errors.labels(self._store, self._backend, name, type(error).__name__).inc()
                raise
            finally:
                duration.observe(time.perf_counter() - started)

        return call

    def __repr__(self) -> str:
        return f"timed({self._inner!r})"


class Observe:
    """ASGI middleware: request id in and out, then the log line and the metrics."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(request_id_from(scope.get("headers", [])))
        token = current_request.set(record)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                headers.append((b"x-request-id", record.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request.reset(token)
            elapsed = time.perf_counter() - started
            path = scope.get("path", "")
            if path != "/metrics":
                self.finish(record, scope.get("method", ""), path, status, elapsed)

    def finish(
        self, record: RequestRecord, method: str, path: str, status: int, elapsed: float
    ) -> None:
        operation = self.metrics.operation_label(record, path)
        self.metrics.requests.labels(operation, str(status)).inc()
        self.metrics.latency.labels(operation).observe(elapsed)
        for code in record.error_codes:
            self.metrics.errors.labels(code).inc()
        line: dict[str, Any] = {
            "event": "request",
            "request_id": record.request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
        }
        if record.operation_type is not None:
            line["operation_type"] = record.operation_type
            line["operation"] = record.operation_name
        if record.error_codes:
            line["error_codes"] = record.error_codes
        access_log.info(json.dumps(line, separators=(",", ":")))


class OperationInfo(SchemaExtension):
    """Puts the operation's name and type on the request's record (for the log line and
    the metrics labels); the error codes are added by the view once they are mapped."""

    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request.get()
        if record is None:
            return
        context = self.execution_context
        try:
            record.operation_name = context.operation_name
            record.operation_type = context.operation_type.value
        except (RuntimeError, AttributeError):  # not parsed, or no single operation
            record.operation_type = record.operation_type or "unknown"


def record_errors(errors: list[Any] | None) -> None:
    record = current_request.get()
    if record is None or not errors:
        return
    for error in errors:
        code = (getattr(error, "extensions", None) or {}).get("code")
        record.error_codes.append(str(code) if code else "UNKNOWN")
    if record.operation_type is None:
        record.operation_type = "unknown"


class JsonFormatter(logging.Formatter):
    """One JSON object a line; messages that are JSON objects already are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        message = record.getMessage()
        merged = False
        if message.startswith("{"):
            try:
                parsed = json.loads(message)
                if isinstance(parsed, dict):
                    line.update(parsed)
                    merged = True
            except ValueError:
                pass
        if not merged:
            line["message"] = message
        request = current_request.get()
        if request is not None and "request_id" not in line:
            line["request_id"] = request.request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), default=str)


def configure_logging(json_format: bool) -> None:
    """tandem's loggers write to stderr, one JSON object a line (or plain text)."""
    logger = logging.getLogger("tandem")
    if any(getattr(h, "_tandem", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._tandem = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter() if json_format else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def tracing_extension() -> type[SchemaExtension]:
    """strawberry's OpenTelemetry extension: a span per operation, parse, validation and
    resolver. The exporter and sampler come from the OpenTelemetry SDK's own settings
    (OTEL_* variables, or `opentelemetry-instrument`); without an SDK the spans are no-ops."""
    try:
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError as error:  # pragma: no cover - depends on the optional extra
        from graph.errors import ConfigurationError

        raise ConfigurationError(
            "TANDEM_TRACING needs OpenTelemetry: pip install 'tandem[tracing]'"
        ) from error
    return OpenTelemetryExtension
