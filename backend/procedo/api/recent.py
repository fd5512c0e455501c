"""Credentials seen a moment ago: who a token or session was, for a couple of seconds."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Seen:
    caller: Any  # api.caller.Caller
    until: float  # time.monotonic()
    csrf: str = ""  # sessions: their CSRF value
    # Sessions and tokens: their end, checked on every request, remembered or not.
    expires_at: dt.datetime | None = None


class RecentCredentials:
    """Who a credential was a moment ago, so a client's run of requests costs one lookup.

    A lookup is a transaction of its own (a third of a list request's work). An entry
    lives ``ttl`` seconds; this process forgets them all at once when a token is revoked,
    a session ends or a password changes, other API processes within ``ttl``.
    """

    def __init__(self, ttl: float = 2.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._seen: dict[str, Seen] = {}
        # Counts forget_all(): a lookup that began before one must not store what it read.
        self.generation = 0

    def get(self, key: str) -> Seen | None:
        seen = self._seen.get(key)
        if seen is None or seen.until < time.monotonic():
            return None
        return seen

    def put(self, key: str, seen: Seen, generation: int) -> None:
        if generation != self.generation:
            return
        if len(self._seen) >= self.size:
            now = time.monotonic()
            self._seen = {k: v for k, v in self._seen.items() if v.until >= now}
            if len(self._seen) >= self.size:
                self._seen.clear()
        self._seen[key] = seen

    def forget_all(self) -> None:
        self.generation += 1
        self._seen.clear()


RECENT = RecentCredentials()
