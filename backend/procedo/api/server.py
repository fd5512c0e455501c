"""`procedo serve`: the API and the designer, embedded (SQLite + in-process workers) by default."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn
from litestar import Litestar

from procedo.api import tenancy
from procedo.api.app import create_app
from procedo.db.migrate import upgrade
from procedo.db.session import Database
from procedo.runtime.context import Runtime
from procedo.settings import Settings, load_settings
from procedo.worker.process import Embedded, build_runtime

log = logging.getLogger("procedo.serve")


@dataclass
class Backend:
    """The runtime the API uses, and what to stop when the server ends."""

    runtime: Runtime
    stop: Callable[[], None]


def start_backend(settings: Settings) -> Backend:
    # PostgreSQL: the application role the API acts as (owning no tables), see docs/security.md.
    role = os.environ.get("PROCEDO_DATABASE_ROLE", "")
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.database_url)
        embedded = Embedded.start(settings)
        tenancy.install(embedded.runtime.db.engine, role)
        return Backend(embedded.runtime, embedded.stop)
    # Distributed: workers and schedulers are their own processes; migrations are
    # `procedo db upgrade`, run once per deployment (several API processes may start at once).
    runtime, _actors = build_runtime(settings)
    tenancy.install(runtime.db.engine, role)
    return Backend(runtime, runtime.db.dispose)


def migrate(url: str) -> None:
    database = Database(url)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()


def serve(
    backend: Backend, host: str, port: int, on_ready: Callable[[], None] | None = None
) -> None:
    app = create_app(backend.runtime)
    if on_ready is not None:
        app.on_startup.append(on_ready)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
    finally:
        backend.stop()


def app_from_environment() -> Litestar:
    """The app of one of several API processes (`procedo serve --workers N`).

    Each process has its own runtime and connection pool, made from the environment
    (PROCEDO_DATABASE_URL, PROCEDO_BROKER_URL); the parent process only supervises.
    """
    backend = start_backend(load_settings())
    app = create_app(backend.runtime)
    app.on_shutdown.append(backend.stop)
    return app


def serve_processes(host: str, port: int, workers: int) -> None:
    """``workers`` API processes on one socket: the GIL binds each to one core."""
    uvicorn.run(
        "procedo.api.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        server_header=False,
    )
