"""Failed logins counted per account and per client address; too many and logins wait.

argon2 makes each guess cost tens of milliseconds, which slows a guesser but does
not stop one. Counts are kept in this process (several API processes each keep
their own): a second line behind a proxy's rate limit, not instead of it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

Key = tuple[str, ...]


class LoginThrottle:
    def __init__(
        self,
        per_account: int = 10,
        per_address: int = 50,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window = window
        self.clock = clock
        self._failures: dict[Key, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, keys: Iterable[Key]) -> float:
        """Seconds until a login may be tried again for these keys (0: now)."""
        now = self.clock()
        longest = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.limits[key[0]]:
                    longest = max(longest, failures[0] + self.window - now)
        return longest

    def failed(self, keys: Iterable[Key]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # bounded memory under a flood of addresses
                self._failures.clear()

    def succeeded(self, account: Key) -> None:
        with self._lock:
            self._failures.pop(account, None)

    def _recent(self, key: Key, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
