"""Failed sign-ins counted in PostgreSQL, so every worker of every app server sees one count.

Three counts, each with its own allowance and then a back-off that doubles with every further
failure (``ThrottleRules``):

- an account from one address: a password guessed at from one place;
- an address, whatever the accounts: one place spraying passwords over many accounts;
- an account, from anywhere: many places guessing one account's password.

An attacker's failures must not lock the account's owner out. So the account's own count
never refuses an address outright: while it is backing off, only addresses that have already
failed on that account in the window are refused, and an address that has not may still try
the right password (a wrong one makes it such an address). A distributed attack thus gets one
guess per address per window, and the owner signs in from their own machine.

A refused attempt is answered before the password is checked (no argon2 cost) and is not
counted again. A success forgets that address's failures on the account only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection

from registry.db import engine_for


@dataclass(frozen=True)
class ThrottleRules:
    """Failures allowed per count before back-off, and the back-off's first and longest wait."""

    account_from_address: int = 5
    address: int = 50
    account: int = 10
    first_wait: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)

    def wait_after(self, failures: int, allowed: int) -> timedelta | None:
        """The back-off after ``failures``: none within the allowance, then doubling."""
        if failures <= allowed:
            return None
        doubling = min(failures - allowed - 1, 20)
        return min(self.first_wait * 2**doubling, self.longest_wait)


RECORD_FAILURE = text(
    """
    INSERT INTO sign_in_throttles AS t (key, failures, first_failed_at)
    VALUES (:key, 1, now())
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.first_failed_at < now() - :window
                             AND coalesce(t.blocked_until, '-infinity') < now()
                        THEN 1 ELSE t.failures + 1 END,
        first_failed_at = CASE WHEN t.first_failed_at < now() - :window
                                    AND coalesce(t.blocked_until, '-infinity') < now()
                               THEN now() ELSE t.first_failed_at END
    RETURNING failures
    """
)
BLOCK = text("UPDATE sign_in_throttles SET blocked_until = now() + :wait WHERE key = :key")
FORGET_OLD = text(
    "DELETE FROM sign_in_throttles WHERE first_failed_at < now() - :window "
    "AND coalesce(blocked_until, '-infinity') < now()"
)
STATES = text(
    """
    SELECT key,
           first_failed_at >= now() - :window AS recent,
           ceil(extract(epoch FROM blocked_until - now()))::int AS seconds_left
    FROM sign_in_throttles WHERE key = ANY(:keys)
    """
)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the account named and the address it came from."""

    email: str
    address: str

    @property
    def account_key(self) -> str:
        return f"account:{self.email.strip().lower()}"

    @property
    def address_key(self) -> str:
        return f"address:{self.address}"

    @property
    def pair_key(self) -> str:
        return f"account-address:{self.email.strip().lower()} {self.address}"


def seconds_to_wait(database_url: str, attempt: Attempt, rules: ThrottleRules) -> int:
    """How long this attempt must wait before its password is even checked (0: not at all)."""
    keys = [attempt.account_key, attempt.address_key, attempt.pair_key]
    with engine_for(database_url).connect() as conn:
        rows = conn.execute(STATES, {"keys": keys, "window": rules.window}).all()
    state = {row.key: row for row in rows}
    waits = [
        row.seconds_left
        for key in (attempt.address_key, attempt.pair_key)
        if (row := state.get(key)) is not None and (row.seconds_left or 0) > 0
    ]
    account, pair = state.get(attempt.account_key), state.get(attempt.pair_key)
    if account is not None and (account.seconds_left or 0) > 0 and pair and pair.recent:
        waits.append(account.seconds_left)  # this address is one of those guessing
    return max(waits, default=0)


def record_failure(database_url: str, attempt: Attempt, rules: ThrottleRules) -> None:
    """Count a wrong password (or an unknown account) under all three keys, in its own
    transaction so it is kept whatever else the request does."""
    allowances = {
        attempt.pair_key: rules.account_from_address,
        attempt.address_key: rules.address,
        attempt.account_key: rules.account,
    }
    count(database_url, allowances, rules)


def count(database_url: str, allowances: Mapping[str, int], rules: ThrottleRules) -> None:
    """One more event under each key, which backs off past its allowance. Sign-in failures
    and residents' reports (``web.public_reports``) share this table and its rules, with keys
    of their own, so every worker of every app server sees one count."""
    with engine_for(database_url).begin() as conn:
        conn.execute(FORGET_OLD, {"window": rules.window})
        for key, allowed in allowances.items():
            _count(conn, key, allowed, rules)


def seconds_blocked(database_url: str, keys: list[str]) -> int:
    """The longest wait any of ``keys`` is backing off for now (0: none)."""
    with engine_for(database_url).connect() as conn:
        rows = conn.execute(STATES, {"keys": keys, "window": timedelta(0)}).all()
    return max((row.seconds_left or 0 for row in rows), default=0)


def _count(conn: Connection, key: str, allowed: int, rules: ThrottleRules) -> None:
    failures = conn.execute(RECORD_FAILURE, {"key": key, "window": rules.window}).scalar_one()
    wait = rules.wait_after(failures, allowed)
    if wait is not None:
        conn.execute(BLOCK, {"key": key, "wait": wait})


def record_success(database_url: str, attempt: Attempt) -> None:
    """The right password from this address: its earlier slips on this account are forgiven."""
    with engine_for(database_url).begin() as conn:
        conn.execute(
            text("DELETE FROM sign_in_throttles WHERE key = :key"), {"key": attempt.pair_key}
        )
