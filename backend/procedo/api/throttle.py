"""Failed logins counted per account and per client address; too many and logins wait.

argon2 makes each guess cost tens of milliseconds, which slows a guesser but does
not stop one. The counts are rows of `login_failures` in the database, so every
API process counts the same failures (per-process counts let N processes allow N
times the attempts). The embedded default has no Redis; the database it has.

An attempt is written down *before* the password is checked and counted after
that write is committed: of several attempts racing in several processes, the
later ones see the earlier ones, so the limit holds under concurrency too. A
refused attempt takes its row back; a right password removes the account's rows
and its own, so only failures remain counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.session import Database
from procedo.ids import new_id
from procedo.runtime.context import Runtime

Key = tuple[str, ...]


def key_hash(key: Key) -> str:
    """Rows name nobody: an account (tenant, email) or address is kept as a SHA-256."""
    return hashlib.sha256("\x1f".join(key).encode()).hexdigest()


class Throttled(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"too many failed attempts; wait {wait:.0f} s")
        self.wait = wait


@dataclass
class Attempt:
    """One login (or current-password check) under way; a failure if left as it is."""

    db: Database
    account: Key
    row_ids: list[uuid.UUID] = field(default_factory=list)

    def succeeded(self) -> None:
        """The right password: the account's count starts again, and this try is no failure."""
        with self.db.transaction() as session:
            session.execute(
                sa.delete(m.LoginFailure).where(
                    sa.or_(
                        m.LoginFailure.id.in_(self.row_ids),
                        m.LoginFailure.key_hash == key_hash(self.account),
                    )
                )
            )


class LoginThrottle:
    """The limits; the counts are in the runtime's database (and its clock says when)."""

    def __init__(
        self,
        per_account: int = 10,
        per_address: int = 50,
        window: dt.timedelta = dt.timedelta(minutes=10),
    ) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window = window

    def attempt(self, rt: Runtime, account: Key, address: Key) -> Attempt:
        """Count one more try for both keys; raise Throttled (nothing counted) if over a limit.

        Keys are ``("account", tenant, email)`` and ``("address", host)``.
        """
        keys = [account, address]
        now = rt.clock.now()
        rows = [m.LoginFailure(id=new_id(), key_hash=key_hash(key), failed_at=now) for key in keys]
        with rt.db.transaction() as session:
            # Older rows count no more anywhere: pruned here, so the table stays small.
            session.execute(
                sa.delete(m.LoginFailure).where(m.LoginFailure.failed_at <= now - self.window)
            )
            session.add_all(rows)
        attempt = Attempt(rt.db, account, [row.id for row in rows])
        wait = self._wait(rt.db, keys, now, attempt.row_ids)
        if wait > 0:
            with rt.db.transaction() as session:
                session.execute(
                    sa.delete(m.LoginFailure).where(m.LoginFailure.id.in_(attempt.row_ids))
                )
            raise Throttled(wait)
        return attempt

    def _wait(
        self, db: Database, keys: Sequence[Key], now: dt.datetime, own: list[uuid.UUID]
    ) -> float:
        """Seconds until every key is under its limit again, counting this attempt."""
        hashes = {key_hash(key): self.limits[key[0]] for key in keys}
        with db.read() as session:
            found = session.execute(
                sa.select(m.LoginFailure.key_hash, m.LoginFailure.failed_at, m.LoginFailure.id)
                .where(
                    m.LoginFailure.key_hash.in_(hashes),
                    m.LoginFailure.failed_at > now - self.window,
                )
                .order_by(m.LoginFailure.failed_at, m.LoginFailure.id)
            ).all()
        longest = 0.0
        for hashed, limit in hashes.items():
            # Others' failures, oldest first; this attempt may go while fewer than the limit.
            others = [at for h, at, row_id in found if h == hashed and row_id not in own]
            if len(others) >= limit:
                frees_at = others[len(others) - limit] + self.window
                longest = max(longest, (frees_at - now).total_seconds(), 1.0)
        return longest
