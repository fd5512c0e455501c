"""SQL functions Procedo adds to every SQLite connection (PostgreSQL has them built in).

``procedo_local_date(moment, zone)``: the date of a stored UTC moment in a time
zone, as ISO text (PostgreSQL: ``timezone(zone, moment)::date``). SQLite has no
time zone database; the computed facts need a history row's local date
(facts/sql.py). Registered for every engine, as the event is on the Engine class.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(moment: str | None, zone: str | None) -> str | None:
    if moment is None or zone is None:
        return None
    stored = dt.datetime.fromisoformat(moment)  # UtcDateTime keeps UTC without an offset
    aware = stored.replace(tzinfo=dt.UTC) if stored.tzinfo is None else stored
    return aware.astimezone(_zone(zone)).date().isoformat()


@event.listens_for(sa.Engine, "connect")
def _register(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("procedo_local_date", 2, local_date, deterministic=True)
