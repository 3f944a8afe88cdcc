"""Passwords, tokens and throttling, without any store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graph.identity import ThrottleState, TokenKind
from resolvers.auth.passwords import (
    hash_password,
    policy_problem,
    verify_password,
)
from resolvers.auth.throttle import ThrottlePolicy, after_failure, retry_after
from resolvers.auth.tokens import looks_like_token, new_token, token_hash
from tests.factories import at

FAST = 4  # bcrypt's minimum cost keeps the tests quick; production defaults to 12


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12"),
        ("password1234", "too common"),
        ("PASSWORD1234", "too common"),
        ("aaaaaaaaaaaa", "too common"),
        ("aaaaaaaaaaaaaaaa", "too few distinct"),
        ("abababababababab", "too few distinct"),
        ("x" * 1025, "at most 1024"),
        ("jane.doe-secret-99", "e-mail"),
    ],
)
def test_weak_passwords_are_rejected_with_a_reason(password: str, problem: str) -> None:
    reason = policy_problem(password, email="jane.doe@example.com")
    assert reason is not None
    assert problem in reason


def test_a_decent_password_passes() -> None:
    assert policy_problem("correct horse battery staple", email="jane@example.com") is None


def test_hash_verifies_only_the_same_password() -> None:
    hashed = hash_password("correct horse battery staple", cost=FAST)
    assert verify_password("correct horse battery staple", hashed)
    assert not verify_password("correct horse battery stapler", hashed)


def test_every_byte_counts_beyond_bcrypts_72_byte_limit() -> None:
    prefix = "p" * 80
    hashed = hash_password(prefix + "-one", cost=FAST)
    assert verify_password(prefix + "-one", hashed)
    assert not verify_password(prefix + "-two", hashed)


def test_nul_bytes_do_not_truncate() -> None:
    hashed = hash_password("abcdefghijkl\x00tail-one", cost=FAST)
    assert not verify_password("abcdefghijkl\x00tail-two", hashed)


def test_tokens_are_unique_prefixed_and_hashed() -> None:
    tokens = {new_token(TokenKind.API) for _ in range(100)}
    assert len(tokens) == 100
    token = next(iter(tokens))
    assert token.startswith("tdm_a_")
    assert looks_like_token(token)
    assert new_token(TokenKind.SESSION).startswith("tdm_s_")
    assert token_hash(token) == token_hash(token)
    assert token_hash(token) != token_hash(token + "x")
    assert not looks_like_token("Basic abc")


POLICY = ThrottlePolicy(max_failures=3, window=timedelta(minutes=15))


def test_throttle_locks_after_max_failures_and_doubles() -> None:
    state: ThrottleState | None = None
    for i in range(2):
        state = after_failure(state, "k", at(i), POLICY)
        assert retry_after(state, at(i)) is None
    state = after_failure(state, "k", at(2), POLICY)
    assert retry_after(state, at(2)) == 60.0
    state = after_failure(state, "k", at(2), POLICY)
    assert retry_after(state, at(2)) == 120.0
    assert retry_after(state, at(2) + timedelta(minutes=2)) is None


def test_throttle_window_expires() -> None:
    state = after_failure(None, "k", at(0), POLICY)
    state = after_failure(state, "k", at(1), POLICY)
    state = after_failure(state, "k", at(30), POLICY)
    assert state.failures == 1
    assert retry_after(state, at(30)) is None


def test_lock_is_capped() -> None:
    state: ThrottleState | None = None
    for _ in range(30):
        state = after_failure(state, "k", at(0), POLICY)
    assert retry_after(state, at(0)) == POLICY.max_lock.total_seconds()
