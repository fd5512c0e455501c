"""The scheduler on the runtime's clock: its periodic passes follow the calendar, and on a
simulated one it reports each round, so a test moving the clock knows when it was handled."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from procedo.runtime.local import LocalRunner
from procedo.worker import scheduler as scheduler_module
from procedo.worker.scheduler import RoundLog, Rounds, Scheduler

START = dt.datetime(2026, 10, 5, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def runner() -> LocalRunner:
    return LocalRunner(start=START)


@pytest.fixture
def passes(runner: LocalRunner, monkeypatch: pytest.MonkeyPatch) -> list[dt.datetime]:
    """The moments the fact pass ran (the portal and procedures passes run with it)."""
    seen: list[dt.datetime] = []

    def wake_all(rt: object) -> int:
        seen.append(runner.clock.now())
        return 0

    monkeypatch.setattr(scheduler_module.fact_waits, "wake_all", wake_all)
    return seen


def test_the_periodic_passes_follow_the_calendar_not_the_seconds_spent(
    runner: LocalRunner, passes: list[dt.datetime]
) -> None:
    scheduler = Scheduler(runner.rt)
    scheduler.tick()
    scheduler.tick()  # the same moment: no second pass however often it polls
    runner.clock.advance(dt.timedelta(minutes=4))
    scheduler.tick()
    assert passes == [START]
    runner.clock.advance(dt.timedelta(minutes=1))  # 5 minutes of the calendar
    scheduler.tick()
    # A simulated calendar that jumps an hour (or a week) gets one pass for the jump.
    runner.clock.advance(dt.timedelta(hours=1))
    scheduler.tick()
    scheduler.tick()
    later = START + dt.timedelta(minutes=5)
    assert passes == [START, later, later + dt.timedelta(hours=1)]


def test_a_scheduler_reports_its_rounds_beside_the_clock_file(
    runner: LocalRunner, tmp_path: Path
) -> None:
    path = RoundLog.path_for(tmp_path / "now", 4242)
    assert path == tmp_path / "now.scheduler-4242"
    assert RoundLog.read(path) is None  # before the first round
    log = RoundLog(path)
    stop = threading.Event()
    rounds: list[int] = []

    def on_round(began: dt.datetime, done: int) -> None:
        log(began, done)
        rounds.append(done)
        runner.clock.advance(dt.timedelta(hours=1))  # moved while the next round waits
        if len(rounds) == 3:
            stop.set()

    Scheduler(runner.rt, poll=0.01).run(stop, on_round)
    # Each round reports the moment it began: the third began two hours on; none did work.
    assert RoundLog.read(path) == Rounds(START + dt.timedelta(hours=2), 3, 0)
    log(START + dt.timedelta(hours=3), 2)  # a round that sent two messages
    assert RoundLog.read(path) == Rounds(START + dt.timedelta(hours=3), 4, 1)
