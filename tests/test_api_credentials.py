"""Credentials seen a moment ago (api/recent.py): kept briefly, forgotten on every change."""

from __future__ import annotations

import pytest

from procedo.api import recent
from procedo.api.recent import RecentCredentials, Seen


def _seen(until: float) -> Seen:
    return Seen(caller="the caller", until=until)


def test_an_entry_lives_its_time_then_is_looked_up_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: now[0])
    credentials = RecentCredentials(ttl=2.0)
    credentials.put("hash", _seen(now[0] + credentials.ttl), credentials.generation)
    assert credentials.get("hash") is not None
    now[0] += 2.5
    assert credentials.get("hash") is None


def test_a_lookup_that_began_before_a_revocation_is_not_kept() -> None:
    credentials = RecentCredentials()
    began = credentials.generation
    credentials.forget_all()  # e.g. the token was revoked while the lookup ran
    credentials.put("hash", _seen(float("inf")), began)
    assert credentials.get("hash") is None
    credentials.put("hash", _seen(float("inf")), credentials.generation)
    assert credentials.get("hash") is not None
    credentials.forget_all()
    assert credentials.get("hash") is None


def test_it_never_grows_past_its_size() -> None:
    credentials = RecentCredentials(size=3)
    for n in range(10):
        credentials.put(f"hash{n}", _seen(float("inf")), credentials.generation)
    assert sum(credentials.get(f"hash{n}") is not None for n in range(10)) <= 3
    assert credentials.get("hash9") is not None
