"""The HTTP API under load: the task inbox and the instance list, 100,000 instances in PostgreSQL.

``procedo serve`` runs as the API process of the distributed setup (its own
process, PostgreSQL and Redis). The load is open-loop: requests are sent on a
fixed schedule (200 per second by default) from a pool of keep-alive
connections, and each latency is measured from the moment the request was due,
so a slow answer also counts against the requests queued behind it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.distributed import bench_schema
from procedo.api.accounts import create_tenant, create_token
from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.runtime import setup
from procedo.runtime.context import Runtime
from procedo.settings import Settings
from procedo.worker.process import build_runtime

FLOW = Path(__file__).resolve().parent / "invoice_approval.json"
ME = "carla@bench.example"
# Of the open tasks, this share waits for carla's role; the rest for other people.
MINE_EVERY = 50


@dataclass(frozen=True)
class Latencies:
    path: str
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass(frozen=True)
class LoadRun:
    instances: int
    rate: float
    seconds: float
    processes: int
    results: list[Latencies]


def _fill(rt: Runtime, tenant_id: uuid.UUID, instances: int) -> None:
    """``instances`` running instances, each waiting at its approval task."""
    version = setup.publish(rt, tenant_id, FLOW.read_bytes(), "bench")
    now = dt.datetime.now(dt.UTC)
    for first in range(0, instances, 10_000):
        count = min(10_000, instances - first)
        subjects = [uuid.uuid4() for _ in range(count)]
        runs = [uuid.uuid4() for _ in range(count)]
        tokens = [uuid.uuid4() for _ in range(count)]
        tasks = [uuid.uuid4() for _ in range(count)]
        with rt.transaction() as (session, _out):
            insert_rows(
                session,
                m.Subject.__table__,  # type: ignore[arg-type]
                [
                    {
                        "id": s,
                        "tenant_id": tenant_id,
                        "type": "invoice",
                        "key": f"INV-{first + n}",
                        "status": "received",
                        "fields": {"payable_amount": "1200", "invoice_number": f"{first + n}"},
                    }
                    for n, s in enumerate(subjects)
                ],
            )
            insert_rows(
                session,
                m.Instance.__table__,  # type: ignore[arg-type]
                [
                    {
                        "id": i,
                        "tenant_id": tenant_id,
                        "flow_version_id": version.id,
                        "subject_id": s,
                        "status": "running",
                        "version": 1,
                        "variables": {},
                        "started_at": now - dt.timedelta(seconds=first + n),
                        "updated_at": now,
                    }
                    for n, (i, s) in enumerate(zip(runs, subjects, strict=True))
                ],
            )
            insert_rows(
                session,
                m.Token.__table__,  # type: ignore[arg-type]
                [
                    {"id": t, "tenant_id": tenant_id, "instance_id": i, "node_id": "approve"}
                    for i, t in zip(runs, tokens, strict=True)
                ],
            )
            insert_rows(
                session,
                m.Task.__table__,  # type: ignore[arg-type]
                [
                    {
                        "id": k,
                        "tenant_id": tenant_id,
                        "instance_id": i,
                        "token_id": t,
                        "node_id": "approve",
                        "subject_id": s,
                        "title": "Approve invoice",
                        "role": "Accountant",
                        "outcomes": [{"port": "approve", "label": "Approve"}],
                        "due_at": now + dt.timedelta(days=2, seconds=n),
                        "created_at": now,
                    }
                    for n, (k, i, t, s) in enumerate(
                        zip(tasks, runs, tokens, subjects, strict=True)
                    )
                ],
            )
            insert_rows(
                session,
                m.TaskCandidate.__table__,  # type: ignore[arg-type]
                [
                    {
                        "task_id": k,
                        "tenant_id": tenant_id,
                        "user_email": ME if n % MINE_EVERY == 0 else f"other{n % 97}@bench.example",
                        "offered": True,
                        "due_at": now + dt.timedelta(days=2, seconds=n),
                        "created_at": now,
                    }
                    for n, k in enumerate(tasks)
                ],
            )
    # As autovacuum would after a bulk load; committed, or the statistics are rolled back.
    with rt.db.engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Seconds of load before the clock starts: the API processes import for a second or two.
WARM_UP = 5.0
# `procedo serve --workers`: one API process per core.
API_PROCESSES = os.cpu_count() or 1
# The two lists, in turn, at the full rate; then the peer at the same rate: an answer with
# no database work (who the token is is known), what the HTTP stack itself costs.
PATHS = ["/api/v1/tasks?scope=roles", "/api/v1/instances?status=running"]
PEER = "/api/v1/auth/me"


@contextmanager
def _server(env: dict[str, str], port: int) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "procedo", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("procedo serve did not start") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait()


class _Client(threading.local):
    connection: http.client.HTTPConnection | None = None


def _load(port: int, token: str, paths: list[str], rate: float, seconds: float) -> list[Latencies]:
    local = _Client()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    timings: dict[str, list[float]] = {path: [] for path in paths}
    errors: dict[str, int] = dict.fromkeys(paths, 0)

    def send(path: str) -> bool:
        if local.connection is None:
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local.connection.request("GET", path, headers=headers)
        answer = local.connection.getresponse()
        answer.read()
        return answer.status == 200

    def call(path: str, due: float) -> None:
        try:
            ok = send(path)
        except (OSError, http.client.HTTPException):
            # The server closes idle keep-alive connections: open a new one, once.
            if local.connection is not None:
                local.connection.close()
            local.connection = None
            try:
                ok = send(path)
            except (OSError, http.client.HTTPException):
                local.connection, ok = None, False
        timings[path].append((time.perf_counter() - due) * 1000)
        if not ok:
            errors[path] += 1

    def run(seconds: float) -> None:
        # New threads, so new connections: each API process gets its share of them.
        with ThreadPoolExecutor(max_workers=32) as pool:
            started = time.perf_counter()
            for n in range(int(rate * seconds)):
                due = started + n / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(call, paths[n % len(paths)], due)

    # Warm up: every API process started, every connection opened, every query planned.
    run(WARM_UP)
    for values in timings.values():
        values.clear()
    for path in errors:
        errors[path] = 0
    run(seconds)
    return [
        Latencies(
            path=path,
            p50_ms=statistics.median(values),
            p99_ms=sorted(values)[max(0, int(len(values) * 0.99) - 1)],
            requests=len(values),
            errors=errors[path],
        )
        for path, values in timings.items()
    ]


def api_under_load(
    postgres_url: str, redis_url: str, instances: int, rate: float = 200.0, seconds: float = 20.0
) -> LoadRun:
    with bench_schema(postgres_url) as url:
        settings = Settings(data_dir=Path("."), database_url=url, broker_url=redis_url)
        rt, _actors = build_runtime(settings)
        rt.db.create_all()
        made = create_tenant(rt, "Bench", "admin@bench.example", slug="bench")
        setup.add_user(rt, made.tenant.id, ME)
        setup.add_member(rt, made.tenant.id, "Accountant", ME)
        _fill(rt, made.tenant.id, instances)
        carla = _user_id(rt, made.tenant.id, ME)
        _row, token = create_token(rt, made.tenant.id, carla, "bench")
        rt.db.dispose()
        port = _free_port()
        env = {
            "PROCEDO_DATABASE_URL": url,
            "PROCEDO_BROKER_URL": redis_url,
            "PROCEDO_API_WORKERS": str(API_PROCESSES),
        }
        with _server(env, port):
            results = _load(port, token, PATHS, rate, seconds)
            results += _load(port, token, [PEER], rate, seconds)
    return LoadRun(instances, rate, seconds, API_PROCESSES, results)


def _user_id(rt: Runtime, tenant_id: uuid.UUID, email: str) -> Any:
    with rt.db.read() as session:
        return session.scalar(
            sa.select(m.User.id).where(m.User.tenant_id == tenant_id, m.User.email == email)
        )


if __name__ == "__main__":
    from bench.__main__ import POSTGRES, REDIS

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    run = api_under_load(POSTGRES, REDIS, count, seconds=seconds)
    for result in run.results:
        print(result)
