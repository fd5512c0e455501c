"""Starting workers and schedulers: as their own processes, or embedded in one.

Distributed: `procedo worker` and `procedo scheduler` are separate processes
sharing PostgreSQL and a Redis (or RabbitMQ) broker; run as many as needed.
Embedded: the same actors run on dramatiq's in-process broker in worker threads,
and the scheduler in a thread, beside the API, with SQLite.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import dramatiq

from procedo.clock import clock_from
from procedo.db.session import Database
from procedo.runtime.context import Runtime
from procedo.settings import Settings
from procedo.worker.actors import QUEUE, Actors, declare_actors, make_broker
from procedo.worker.scheduler import RoundLog, Scheduler

log = logging.getLogger("procedo.worker")


def build_runtime(settings: Settings) -> tuple[Runtime, Actors]:
    """A runtime whose messages go to dramatiq actors on the configured broker."""
    broker = make_broker(settings.broker_url)
    holder: list[Runtime] = []
    actors = declare_actors(broker, lambda: holder[0])
    runtime = Runtime(
        db=Database(settings.database_url),
        dispatcher=actors,
        clock=clock_from(settings.clock_file),
    )
    holder.append(runtime)
    return runtime, actors


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def run_worker(settings: Settings, threads: int) -> None:
    if settings.embedded:
        raise SystemExit(
            "set PROCEDO_BROKER_URL (redis://... or amqp://...) to run a worker process"
        )
    runtime, actors = build_runtime(settings)
    worker = dramatiq.Worker(actors.broker, queues={QUEUE}, worker_threads=threads)
    worker.start()
    log.info("worker started with %d threads", threads)
    _wait_for_signal()
    worker.stop()
    runtime.db.dispose()


def run_scheduler(settings: Settings, poll: float) -> None:
    if settings.embedded:
        raise SystemExit("set PROCEDO_BROKER_URL (redis://... or amqp://...) to run a scheduler")
    runtime, _actors = build_runtime(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("scheduler started")
    # On a simulated calendar the rounds are reported beside the clock file, so whoever
    # moves the clock can tell when this process has handled the new moment.
    on_round = None
    if settings.clock_file:
        on_round = RoundLog(RoundLog.path_for(Path(settings.clock_file), os.getpid()))
    Scheduler(runtime, poll, settings.sweep_grace, settings.sending_timeout).run(stop, on_round)
    runtime.db.dispose()


@dataclass
class Embedded:
    """Workers and a scheduler inside this process (the embedded mode)."""

    runtime: Runtime
    worker: dramatiq.Worker
    stop_event: threading.Event
    scheduler: threading.Thread

    @classmethod
    def start(cls, settings: Settings, threads: int = 4, poll: float = 0.25) -> Embedded:
        runtime, actors = build_runtime(settings)
        worker = dramatiq.Worker(actors.broker, queues={QUEUE}, worker_threads=threads)
        worker.start()
        stop = threading.Event()
        thread = threading.Thread(
            target=Scheduler(runtime, poll, settings.sweep_grace, settings.sending_timeout).run,
            args=(stop,),
            name="procedo-scheduler",
            daemon=True,
        )
        thread.start()
        return cls(runtime, worker, stop, thread)

    def join(self, timeout: float = 10.0) -> None:
        """Wait until every queued message was handled (tests, demo set-up)."""
        self.worker.join()
        broker = self.worker.broker
        if hasattr(broker, "join"):
            broker.join(QUEUE, timeout=int(timeout * 1000))

    def stop(self) -> None:
        self.stop_event.set()
        self.scheduler.join(timeout=5)
        self.worker.stop()
        self.runtime.db.dispose()
