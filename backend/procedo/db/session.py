"""Database connections: SQLite for the embedded mode, PostgreSQL in production.

On SQLite every write transaction starts with BEGIN IMMEDIATE: with WAL and
several threads, a transaction that read first and writes later would otherwise
fail at once with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_setup(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _postgresql_setup(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Moments come back in UTC, whatever the server's default; models.UtcDateTime
        # relies on it.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
            # No JIT: it compiles a plan whose estimated cost is high, and Procedo's
            # costly plans (a schedule's selection over a million debtors) spent 3 s of
            # a 10 s selection compiling it (docs/benchmarks.md); the rest are short.
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = sa.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # msgspec reads and writes the JSON columns: several times faster than the stdlib.
        options: dict[str, Any] = {
            "echo": echo,
            "json_serializer": _json_text,
            "json_deserializer": msgspec.json.decode,
        }
        if self.is_sqlite:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if self.url.database in (None, "", ":memory:"):
                # One shared connection, or every connection would see its own empty database.
                options["poolclass"] = sa.StaticPool
        else:
            # No pre-ping: it is a round trip before every transaction (a tenth of an inbox
            # request's time). A connection the server dropped fails one transaction, and
            # SQLAlchemy then discards every connection of the pool older than the failure;
            # workers retry the message, the API answers 503 (docs/operations.md).
            options |= {"pool_size": 10, "max_overflow": 20, "pool_recycle": 1800}
        self.engine = sa.create_engine(self.url, **options)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        else:
            _postgresql_setup(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A read-write transaction, committed at the end unless it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (no write lock on SQLite)."""
        # Closing (not rolling back) keeps loaded objects readable after the block.
        with self._sessions() as session:
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            yield session

    @contextmanager
    def rows(self) -> Iterator[sa.Connection]:
        """Reads for Core queries that need no ORM objects and no snapshot across them: lists.

        A fraction of ``read()``'s cost per request: no Session, and on PostgreSQL no
        transaction (autocommit), so a one-query list is one round trip instead of four
        (BEGIN, the tenant, the query, ROLLBACK; api/tenancy.py sets the tenant once per
        connection for these). Several queries here may see different moments.
        """
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.execution_options(sqlite_begin="DEFERRED")
            else:
                connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    def create_all(self) -> None:
        """Create the tables directly (tests); deployments use `procedo db upgrade`."""
        from procedo.db.models import Base

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
