"""The HTTP front door: app factory, settings, CLI, error mapping."""
