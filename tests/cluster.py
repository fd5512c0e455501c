"""Procedo distributed on this machine: workers and schedulers on PostgreSQL + Redis."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Cluster:
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    schedulers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "procedo", *args],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_worker(self, threads: int = 4) -> None:
        self.workers.append(self._spawn("worker", "--threads", str(threads)))

    def start_scheduler(self) -> None:
        self.schedulers.append(self._spawn("scheduler", "--poll", "0.1"))

    def kill_random_worker(self, rng: random.Random) -> None:
        """kill -9 one worker, wherever it is, and start a fresh one."""
        victim = rng.choice(self.workers)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.workers.remove(victim)
        self.kills += 1
        self.start_worker()

    def stop(self, processes: list[subprocess.Popen[bytes]] | None = None) -> None:
        targets = list(processes if processes is not None else self.workers + self.schedulers)
        for process in targets:
            process.send_signal(signal.SIGKILL)
        for process in targets:
            process.wait()
            for group in (self.workers, self.schedulers):
                if process in group:
                    group.remove(process)


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
