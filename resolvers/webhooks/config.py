"""The webhook settings the services and the dispatcher share (read in api/settings.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from resolvers.webhooks.retry import RetryPolicy

# Seconds a claimed delivery stays leased beyond the time its batch may take: covers
# recording the outcome and a slow store, so no second dispatcher claims it meanwhile.
LEASE_MARGIN_S = 60.0


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 10.0  # one attempt, start to status line, in all
    concurrency: int = 8  # requests in flight per dispatcher
    claim_limit: int = 32  # deliveries claimed per round
    fan_out_limit: int = 100  # outbox events per fan-out call
    fan_out_calls: int = 20  # fan-out calls per round at most, so a round ends
    max_endpoints: int = 10  # active endpoints per org
    # http:// to loopback hosts (local receivers in development and tests); never in
    # production, where every endpoint is https.
    allow_http_loopback: bool = False

    @property
    def lease_s(self) -> float:
        waves = math.ceil(self.claim_limit / self.concurrency)
        return waves * self.timeout_s + LEASE_MARGIN_S
