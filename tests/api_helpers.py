"""A real Procedo server on loopback for the API tests: uvicorn in a thread, on a free port."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

from procedo.api import accounts
from procedo.api.app import create_app
from procedo.api.server import Backend
from procedo.db.session import Database
from procedo.runtime.context import Runtime
from procedo.settings import Settings
from procedo.worker.process import Embedded
from tests.cluster import free_port


@contextmanager
def live_server(rt: Runtime, web_dir: Path | None = None) -> Iterator[str]:
    """Serve the app for ``rt``; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(rt, web_dir=web_dir), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def embedded_backend(database_url: str, data_dir: Path) -> Iterator[Backend]:
    """The embedded mode: in-process workers and scheduler on ``database_url``."""
    Database(database_url).create_all()
    settings = Settings(data_dir=data_dir, database_url=database_url, broker_url="")
    embedded = Embedded.start(settings, threads=2, poll=0.1)
    try:
        yield Backend(embedded.runtime, embedded.stop)
    finally:
        embedded.stop()


@dataclass
class Office:
    """A tenant with an admin, seen through the API with the admin's token."""

    slug: str
    tenant_id: Any
    email: str
    password: str
    token: str
    http: httpx.Client


def office(rt: Runtime, base_url: str, name: str) -> Office:
    made = accounts.create_tenant(rt, name, f"admin@{accounts.slug_of(name)}.example")
    http = httpx.Client(
        base_url=f"{base_url}/api/v1",
        headers={"Authorization": f"Bearer {made.token}"},
        timeout=30,
    )
    return Office(
        made.tenant.slug, made.tenant.id, made.admin.email, made.password, made.token, http
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"{response.text}"
    )
    return response.json() if response.content else None


def _keep_reading(stream: IO[str], lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[str, list[str]]]:
    """`procedo serve` as its own process; yields its URL and the output lines read so far."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "procedo", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180  # a loaded CI machine starts slowly
        assert process.stdout is not None
        while not any("Application startup complete" in line for line in lines):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise AssertionError("procedo serve ended:\n" + "".join(lines))
            lines.append(line)
            assert time.monotonic() < deadline, "".join(lines)
        # Keep reading: a server whose pipe fills up blocks on its next log line.
        threading.Thread(target=_keep_reading, args=(process.stdout, lines), daemon=True).start()
        yield f"http://127.0.0.1:{port}", lines
    finally:
        process.terminate()
        process.wait(timeout=20)
