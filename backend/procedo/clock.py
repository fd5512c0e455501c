"""Clocks: the system's, a fake one that tests and `procedo run` move by hand, and a
shared simulated one that separate processes read from a file."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self._now = max(self._now, moment)


class FileClock:
    """The moment written in a file: one simulated calendar for separate processes.

    `PROCEDO_CLOCK_FILE` points the API, worker and scheduler processes at the same file,
    so an acceptance test or a training set-up moves time for all of them at once (see
    docs/operations.md). Never set in production. Time never goes back within a process.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        text = self.path.read_text(encoding="ascii").strip()
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"{self.path}: the moment needs a UTC offset, got {text!r}")
        with self._lock:
            self._last = max(self._last, moment.astimezone(dt.UTC))
            return self._last

    @staticmethod
    def write(path: Path, moment: dt.datetime) -> None:
        """Move the shared clock (atomically: a reader never sees half a timestamp)."""
        if moment.tzinfo is None:
            raise ValueError("the moment needs a time zone")
        draft = path.with_name(path.name + ".next")
        draft.write_text(moment.astimezone(dt.UTC).isoformat(), encoding="ascii")
        os.replace(draft, path)


def clock_from(file: str) -> Clock:
    """The system clock, or the shared simulated one when a clock file is configured."""
    return FileClock(Path(file)) if file else SystemClock()
