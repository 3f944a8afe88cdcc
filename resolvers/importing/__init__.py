"""Bulk import of CRM exports (CSV), streaming and resumable."""
