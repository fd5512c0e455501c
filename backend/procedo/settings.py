"""Settings from the environment; the defaults give the embedded mode in ./.procedo-data."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True):
    data_dir: Path
    # SQLAlchemy URL; default: SQLite in the data directory.
    database_url: str
    # Redis or RabbitMQ URL for the workers; empty: run the workers in-process.
    broker_url: str
    # Seconds a row may wait for its message before the sweeper sends it again.
    sweep_grace: float = 30.0
    # Seconds after which an email still `sending` counts as abandoned by a dead worker.
    sending_timeout: float = 300.0
    # A file holding the current moment, shared by every process (simulated calendars in
    # acceptance tests and training; empty: the system clock). See procedo.clock.FileClock.
    clock_file: str = ""

    @property
    def embedded(self) -> bool:
        return not self.broker_url


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("PROCEDO_DATA_DIR", ".procedo-data")).resolve()
    database_url = os.environ.get("PROCEDO_DATABASE_URL") or f"sqlite:///{data_dir / 'procedo.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=os.environ.get("PROCEDO_BROKER_URL", ""),
        sweep_grace=float(os.environ.get("PROCEDO_SWEEP_GRACE", "30")),
        sending_timeout=float(os.environ.get("PROCEDO_SENDING_TIMEOUT", "300")),
        clock_file=os.environ.get("PROCEDO_CLOCK_FILE", ""),
    )
