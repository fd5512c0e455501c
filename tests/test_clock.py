"""The shared simulated clock: every process reading the same file sees the same moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from procedo.clock import FileClock, SystemClock, clock_from
from procedo.settings import load_settings


def test_a_file_clock_follows_the_file_and_never_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "now"
    monday = dt.datetime(2026, 10, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    FileClock.write(path, monday)
    first, second = FileClock(path), FileClock(path)  # two processes
    assert first.now() == second.now() == monday
    assert first.now().tzinfo == dt.UTC
    FileClock.write(path, monday + dt.timedelta(days=7))
    assert second.now() == monday + dt.timedelta(days=7)
    FileClock.write(path, monday)  # a step back is not taken
    assert second.now() == monday + dt.timedelta(days=7)


def test_a_moment_without_an_offset_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / "now"
    path.write_text("2026-10-05T08:00:00")
    with pytest.raises(ValueError, match="now: the moment needs a UTC offset"):
        FileClock(path).now()
    with pytest.raises(ValueError, match="time zone"):
        FileClock.write(path, dt.datetime(2026, 10, 5))


def test_the_environment_chooses_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROCEDO_CLOCK_FILE", raising=False)
    assert isinstance(clock_from(load_settings().clock_file), SystemClock)
    monkeypatch.setenv("PROCEDO_CLOCK_FILE", str(tmp_path / "now"))
    chosen = clock_from(load_settings().clock_file)
    assert isinstance(chosen, FileClock)
    assert chosen.path == tmp_path / "now"
