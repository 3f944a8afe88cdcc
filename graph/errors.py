"""Domain errors, one small tree. The API maps each code to a GraphQL error once.

TandemError                  every error this code base raises on purpose
 +-- StoreUnavailable        a store cannot be reached (UNAVAILABLE)
 +-- ConfigurationError      settings are invalid at start (never reaches a client)
 +-- NotFound                no such object, or not visible to the viewer (NOT_FOUND)
 +-- Forbidden               the viewer may not do this (FORBIDDEN)
 +-- Unauthenticated         no valid credentials (UNAUTHENTICATED)
 +-- BadInput                malformed input (BAD_USER_INPUT)
 +-- Conflict                the write clashes with existing state (CONFLICT)
 |    +-- IllegalTransition  a deal registration cannot make that move (ILLEGAL_TRANSITION)
 +-- RateLimited             too many attempts; carries retry_after (RATE_LIMITED)
"""

from __future__ import annotations


class TandemError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StoreUnavailable(TandemError):
    code = "UNAVAILABLE"


class ConfigurationError(TandemError):
    code = "INTERNAL"


class NotFound(TandemError):
    code = "NOT_FOUND"


class Forbidden(TandemError):
    code = "FORBIDDEN"


class Unauthenticated(TandemError):
    code = "UNAUTHENTICATED"


class BadInput(TandemError):
    code = "BAD_USER_INPUT"


class Conflict(TandemError):
    code = "CONFLICT"


class IllegalTransition(Conflict):
    code = "ILLEGAL_TRANSITION"


class RateLimited(TandemError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
