"""Webhooks: signed, retried, recorded deliveries of the outbox's events (docs/webhooks.md)."""
