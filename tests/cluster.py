"""Procedo distributed on this machine: workers and schedulers on PostgreSQL + Redis.

On a simulated calendar (``on_a_calendar``) every process, the API included, reads the
moment from one clock file (PROCEDO_CLOCK_FILE). The test moves it with
``Cluster.move_clock``, which returns once the processes have handled the new moment:
each scheduler completed a round that began at or after it, no message waits in Redis
or is being handled, nothing due is left in the database, and two further rounds of
every scheduler found nothing to do (see ``settle``).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from procedo.clock import FileClock
from procedo.db import models as m
from procedo.db.starts import StartPlan
from procedo.messaging.secretbox import new_key
from procedo.runtime.context import Runtime
from procedo.settings import Settings
from procedo.worker.actors import QUEUE
from procedo.worker.process import build_runtime
from procedo.worker.scheduler import RoundLog, Rounds

SETTLE_TIMEOUT = 60.0  # seconds for the processes to handle one moment


@dataclass
class Cluster:
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    schedulers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    apis: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0
    # Where the processes' output goes (its tail is shown when a wait times out).
    logs: Path | None = None

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        output: Any = subprocess.DEVNULL
        if self.logs is not None:
            count = len(list(self.logs.glob(f"{args[0]}-*.log")))
            output = (self.logs / f"{args[0]}-{count}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "procedo", *args],
            env={**os.environ, **self.env},
            stdout=output,
            stderr=output,
        )
        if output is not subprocess.DEVNULL:
            output.close()  # the process has its own copy
        return process

    def start_worker(self, threads: int = 4) -> None:
        self.workers.append(self._spawn("worker", "--threads", str(threads)))

    def start_scheduler(self) -> None:
        self.schedulers.append(self._spawn("scheduler", "--poll", "0.1"))

    def start_api(self, timeout: float = 180.0) -> str:
        """`procedo serve` (its output in ``logs``); its URL once it answers."""
        import httpx

        port = free_port()
        self.apis.append(self._spawn("serve", "--port", str(port)))
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if self.apis[-1].poll() is not None:
                raise AssertionError("procedo serve ended" + self._log_tail())
            try:
                httpx.get(f"{url}/api/v1/flows", timeout=2)
            except httpx.TransportError:
                return False
            return True

        wait_until(answers, timeout, "procedo serve to answer")
        return url

    def kill_random_worker(self, rng: random.Random) -> None:
        """kill -9 one worker, wherever it is, and start a fresh one."""
        victim = rng.choice(self.workers)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.workers.remove(victim)
        self.kills += 1
        self.start_worker()

    def stop(self, processes: list[subprocess.Popen[bytes]] | None = None) -> None:
        everything = self.workers + self.schedulers + self.apis
        targets = list(processes if processes is not None else everything)
        for process in targets:
            process.send_signal(signal.SIGKILL)
        for process in targets:
            process.wait()
            for group in (self.workers, self.schedulers, self.apis):
                if process in group:
                    group.remove(process)

    # --- A simulated calendar -------------------------------------------------------------

    @property
    def clock_file(self) -> Path:
        file = self.env.get("PROCEDO_CLOCK_FILE")
        assert file, "this cluster runs on the system clock (no PROCEDO_CLOCK_FILE)"
        return Path(file)

    def now(self) -> dt.datetime:
        return FileClock(self.clock_file).now()

    def move_clock(self, rt: Runtime, moment: dt.datetime) -> None:
        """Move every process's clock to ``moment`` and wait until they have handled it."""
        assert moment >= self.now(), f"the calendar does not go back to {moment}"
        FileClock.write(self.clock_file, moment)
        self.settle(rt)

    def rounds(self) -> dict[int, Rounds | None]:
        """Each scheduler's last reported round (None before its first)."""
        return {
            process.pid: RoundLog.read(RoundLog.path_for(self.clock_file, process.pid))
            for process in self.schedulers
        }

    def settle(self, rt: Runtime, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the processes have handled the clock's moment and nothing is left.

        Settled when every scheduler has completed a round that began at or after the
        moment, and then: Redis holds no message (queued, delayed or being handled), the
        database nothing due or in progress (``unsettled``), and every scheduler's next
        two rounds, counted from before those checks, did nothing (the first may have
        been under way already; the second began after it). So no scheduler sent work
        after the checks, and workers only act on messages: nothing moved after them,
        and what a worker left due before them shows in the database.
        """
        moment = self.now()
        deadline = time.monotonic() + timeout
        left: list[str] = []
        while True:
            self._check_alive()
            before = self.rounds()
            behind = [pid for pid, seen in before.items() if seen is None or seen.moment < moment]
            if behind:
                left = [f"schedulers {behind} have not completed a round at {moment}"]
            else:
                left = self._busy_broker() + unsettled(rt, moment)
                if not left and self._quiet_rounds(before, deadline):
                    return
                if not left:
                    left = ["the schedulers kept finding work"]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s: the processes did not settle at {moment}: "
                    + "; ".join(left)
                    + self._log_tail()
                )
            time.sleep(0.05)

    def _quiet_rounds(self, before: dict[int, Rounds | None], deadline: float) -> bool:
        """Every scheduler completed two more rounds, none of them doing anything."""
        wanted = {pid: seen.rounds + 2 for pid, seen in before.items() if seen is not None}
        while True:
            now = self.rounds()
            if all(seen is not None and seen.rounds >= wanted[pid] for pid, seen in now.items()):
                break
            if time.monotonic() > deadline:
                return False
            self._check_alive()
            time.sleep(0.02)
        return all(
            seen is not None and (was := before[pid]) is not None and seen.busy == was.busy
            for pid, seen in now.items()
        )

    def _busy_broker(self) -> list[str]:
        import redis  # only the distributed tests pay for importing it

        client = redis.Redis.from_url(self.env["PROCEDO_BROKER_URL"])
        try:
            # dramatiq keeps each message in these hashes until it is acknowledged.
            waiting = client.hlen(f"dramatiq:{QUEUE}.msgs")
            delayed = client.hlen(f"dramatiq:{QUEUE}.DQ.msgs")
        finally:
            client.close()
        if waiting or delayed:
            return [f"{waiting} messages queued or being handled, {delayed} delayed in Redis"]
        return []

    def _check_alive(self) -> None:
        for kind, group in (("worker", self.workers), ("scheduler", self.schedulers)):
            for process in group:
                if process.poll() is not None:
                    raise AssertionError(
                        f"a {kind} process ended with {process.returncode}" + self._log_tail()
                    )

    def _log_tail(self, lines: int = 20) -> str:
        if self.logs is None:
            return ""
        tails = []
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            if text:
                tails.append(f"\n--- {log.name}:\n" + "\n".join(text))
        return "".join(tails)


def unsettled(rt: Runtime, moment: dt.datetime) -> list[str]:
    """What the database still holds due at ``moment`` or in progress, counted by kind."""
    active_schedule = (
        sa.select(sa.func.count())
        .select_from(m.FlowSchedule)
        .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
        .where(
            m.FlowSchedule.active.is_(True),
            m.FlowVersion.active.is_(True),
            m.FlowSchedule.next_run_at <= moment,
        )
    )
    checks: dict[str, sa.Select[tuple[int]]] = {
        "instances pending": sa.select(sa.func.count())
        .select_from(m.Instance)
        .where(m.Instance.status == "pending"),
        "timers due or claimed": sa.select(sa.func.count())
        .select_from(m.Timer)
        .where(
            sa.or_(
                sa.and_(m.Timer.status == "pending", m.Timer.due_at <= moment),
                m.Timer.status == "enqueued",
            )
        ),
        "events pending": sa.select(sa.func.count())
        .select_from(m.Event)
        .where(m.Event.status == "pending"),
        "emails due or being sent": sa.select(sa.func.count())
        .select_from(m.Outbox)
        .where(
            sa.or_(
                sa.and_(m.Outbox.status == "pending", m.Outbox.next_attempt_at <= moment),
                m.Outbox.status.in_(("enqueued", "sending")),
            )
        ),
        "schedules due": active_schedule,
        "start plans due": sa.select(sa.func.count())
        .select_from(StartPlan)
        .where(StartPlan.next_run_at <= moment),
    }
    with rt.db.read() as session:
        counts = {what: session.scalar(query) or 0 for what, query in checks.items()}
    return [f"{count} {what}" for what, count in counts.items() if count]


def next_due(rt: Runtime, after: dt.datetime) -> dt.datetime | None:
    """The next moment after ``after`` a schedule slot, a timer or a start plan falls due.

    A walk that moves the calendar to each of these, rather than by a fixed step, lets the
    scheduler handle every slot and timer at its own moment, as on the system clock.
    """
    queries = [
        sa.select(sa.func.min(m.FlowSchedule.next_run_at))
        .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
        .where(
            m.FlowSchedule.active.is_(True),
            m.FlowVersion.active.is_(True),
            m.FlowSchedule.next_run_at > after,
        ),
        sa.select(sa.func.min(m.Timer.due_at)).where(
            m.Timer.status == "pending", m.Timer.due_at > after
        ),
        sa.select(sa.func.min(StartPlan.next_run_at)).where(StartPlan.next_run_at > after),
    ]
    with rt.db.read() as session:
        found = [session.scalar(query) for query in queries]
    moments = [moment for moment in found if moment is not None]
    return min(moments, default=None)


@dataclass
class CalendarSetup:
    """Procedo distributed on a simulated calendar: the test's runtime (same database,
    broker and clock file), the API's URL and the worker and scheduler processes."""

    rt: Runtime
    url: str
    cluster: Cluster

    def now(self) -> dt.datetime:
        return self.cluster.now()

    def move_to(self, moment: dt.datetime) -> None:
        self.cluster.move_clock(self.rt, moment)

    def settle(self) -> None:
        """Wait until what the test did (over HTTP or on ``rt``) has been handled."""
        self.cluster.settle(self.rt)

    def walk_to(self, moment: dt.datetime) -> None:
        """Let time pass to ``moment``, stopping at each slot or timer due on the way."""
        until = moment.astimezone(dt.UTC)
        while (now := self.now()) < until:
            due = next_due(self.rt, now)
            self.move_to(min(due, until) if due is not None else until)


@contextmanager
def on_a_calendar(
    postgres_url: str, redis_url: str, start: dt.datetime, directory: Path, workers: int = 1
) -> Iterator[CalendarSetup]:
    """`procedo serve`, worker and scheduler processes sharing a clock file set to ``start``.

    Their output goes to ``directory``/logs; its end is shown when a wait times out.
    """
    clock_file = directory / "now"
    FileClock.write(clock_file, start)
    env = {
        "PROCEDO_DATABASE_URL": postgres_url,
        "PROCEDO_BROKER_URL": redis_url,
        "PROCEDO_CLOCK_FILE": str(clock_file),
        "PROCEDO_DATA_DIR": str(directory / "data"),
        # Distributed, every process must hold the same key (sealed letters, passwords).
        "PROCEDO_SECRET_KEY": new_key(),
    }
    settings = Settings(
        data_dir=directory,
        database_url=postgres_url,
        broker_url=redis_url,
        clock_file=str(clock_file),
    )
    rt, _actors = build_runtime(settings)
    rt.db.create_all()
    logs = directory / "logs"
    logs.mkdir()
    cluster = Cluster(env, logs=logs)
    for _ in range(workers):
        cluster.start_worker(threads=4)
    cluster.start_scheduler()
    try:
        setup = CalendarSetup(rt, cluster.start_api(), cluster)
        setup.settle()  # the scheduler's first round (and passes) at the start
        yield setup
    finally:
        cluster.stop()
        rt.db.dispose()


class SinkHandler:
    """An SMTP server that keeps what it receives, keyed by Message-ID."""

    def __init__(self) -> None:
        self.received: list[tuple[str, tuple[str, ...], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        self.received.append(
            (str(message["Message-ID"]), tuple(envelope.rcpt_tos), str(message["Subject"]))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def smtp_sink() -> tuple[Controller, SinkHandler, int]:
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler, port


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)
