"""The debtor portal's page under load: 100,000 debtors in PostgreSQL, 200 requests/s.

``procedo serve`` runs as the API processes of the distributed setup, as in
bench/api_load.py. Each debtor has three open invoices; a sample of them has a
portal link. The load is open-loop (requests on a fixed schedule, each latency
measured from the moment it was due) over the sample's links in turn, then the same
server's static route (``GET /``, the designer's index page: no database) at the same
rate, so the page's own cost reads against what the HTTP stack costs; then both one
request at a time, which shows a request's own cost when a busy machine makes the open
loop's queue grow.

Opening the page is not free of writes: each open adds a ``portal_opened`` row to the
debtor's history (issue 18: every use is in the history).
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench.api_load import API_PROCESSES, WARM_UP, _free_port
from bench.distributed import bench_schema
from procedo.api.accounts import create_tenant
from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.db.portal import PortalLink
from procedo.db.receivables import OpenItem
from procedo.ids import new_id
from procedo.portal.links import hash_of
from procedo.settings import Settings
from procedo.worker.process import build_runtime

# Debtors with a link: the load walks over them, so the pages read are spread out.
LINKED = 2_000
BATCH = 10_000


@dataclass(frozen=True)
class Latencies:
    what: str
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass(frozen=True)
class PortalRun:
    debtors: int
    rate: float
    seconds: float
    processes: int
    results: list[Latencies]


def _fill(settings: Settings, debtors: int) -> list[str]:
    """The tenant's debtors, three open items each, and links for a sample; their tokens."""
    rt, _actors = build_runtime(settings)
    rt.db.create_all()
    made = create_tenant(rt, "Bench", "admin@bench.example", slug="bench")
    tenant = made.tenant.id
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    tokens: list[str] = []
    tables = m.Base.metadata.tables
    subjects = tables[m.Subject.__tablename__]
    items = tables[OpenItem.__tablename__]
    links = tables[PortalLink.__tablename__]
    with rt.db.transaction() as session:
        for start in range(0, debtors, BATCH):
            ids = [new_id() for _ in range(start, min(start + BATCH, debtors))]
            insert_rows(
                session,
                subjects,
                [
                    {
                        "id": ident,
                        "tenant_id": tenant,
                        "type": "debtor",
                        "key": f"D{start + n:07d}",
                        "status": "",
                        "fields": {"name": f"Debtor {start + n}", "language": "nl"},
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, ident in enumerate(ids)
                ],
            )
            insert_rows(
                session,
                items,
                [
                    {
                        "id": new_id(),
                        "tenant_id": tenant,
                        "debtor_id": ident,
                        "kind": "invoice",
                        "number": f"F{start + n:07d}-{k}",
                        "issue_date": today - dt.timedelta(days=40 + k),
                        "due_date": today - dt.timedelta(days=10 + k),
                        "amount": Decimal("121.00") * k,
                        "open_amount": Decimal("121.00") * k,
                        "currency": "EUR",
                        "status": "open",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, ident in enumerate(ids)
                    for k in (1, 2, 3)
                ],
            )
            linked = ids[: max(0, LINKED - len(tokens))]
            fresh = [secrets.token_urlsafe(24) for _ in linked]
            insert_rows(
                session,
                links,
                [
                    {
                        "id": new_id(),
                        "tenant_id": tenant,
                        "debtor_id": ident,
                        "token_hash": hash_of(token),
                        "csrf": secrets.token_urlsafe(32),
                        "created_at": now,
                        "expires_at": now + dt.timedelta(days=30),
                        "revoked_at": None,
                        "created_by": "bench",
                    }
                    for ident, token in zip(linked, fresh, strict=True)
                ],
            )
            tokens += fresh
    with rt.db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    rt.db.dispose()
    return tokens


@contextmanager
def _server(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """`procedo serve` in its own process group; its output in ``log`` (shown if it fails)."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "procedo", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"procedo serve did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait()


class _Client(threading.local):
    connection: http.client.HTTPConnection | None = None


def _load(port: int, what: str, paths: list[str], rate: float, seconds: float) -> Latencies:
    """Open loop over ``paths`` in turn; one latency figure for all of them."""
    local = _Client()
    timings: list[float] = []
    errors = 0

    def send(path: str) -> bool:
        if local.connection is None:
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local.connection.request("GET", path)
        answer = local.connection.getresponse()
        answer.read()
        return answer.status == 200

    def call(path: str, due: float) -> None:
        nonlocal errors
        try:
            ok = send(path)
        except (OSError, http.client.HTTPException):
            if local.connection is not None:
                local.connection.close()
            local.connection = None
            try:
                ok = send(path)
            except (OSError, http.client.HTTPException):
                local.connection, ok = None, False
        timings.append((time.perf_counter() - due) * 1000)
        if not ok:
            errors += 1

    def run(seconds: float) -> None:
        with ThreadPoolExecutor(max_workers=32) as pool:
            started = time.perf_counter()
            for n in range(int(rate * seconds)):
                due = started + n / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(call, paths[n % len(paths)], due)

    run(WARM_UP)
    timings.clear()
    errors = 0
    run(seconds)
    ordered = sorted(timings)
    return Latencies(
        what,
        statistics.median(ordered),
        ordered[max(0, int(len(ordered) * 0.99) - 1)],
        len(ordered),
        errors,
    )


def _serial(port: int, what: str, paths: list[str], count: int = 400) -> Latencies:
    """One request at a time (no queue): what a request costs the server on its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings: list[float] = []
    errors = 0
    for n in range(count):
        started = time.perf_counter()
        connection.request("GET", paths[n % len(paths)])
        answer = connection.getresponse()
        answer.read()
        timings.append((time.perf_counter() - started) * 1000)
        errors += answer.status != 200
    connection.close()
    ordered = sorted(timings)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return Latencies(f"{what}, one at a time", statistics.median(ordered), p99, count, errors)


def portal_under_load(
    postgres_url: str, redis_url: str, debtors: int, rate: float = 200.0, seconds: float = 20.0
) -> PortalRun:
    with bench_schema(postgres_url) as url:
        settings = Settings(data_dir=Path("."), database_url=url, broker_url=redis_url)
        tokens = _fill(settings, debtors)
        port = _free_port()
        env = {
            "PROCEDO_DATABASE_URL": url,
            "PROCEDO_BROKER_URL": redis_url,
            "PROCEDO_API_WORKERS": str(API_PROCESSES),
        }
        pages = [f"/portal/{token}" for token in tokens]
        log = Path(tempfile.gettempdir()) / f"procedo-bench-portal-{os.getpid()}.log"
        with _server(env, port, log):
            results = [
                _load(port, "GET /portal/{token}", pages, rate, seconds),
                _load(port, "GET / (static)", ["/"], rate, seconds),
                # Without the open loop's queue: robust to a busy machine's backlog.
                _serial(port, "GET /portal/{token}", pages[::-1]),
                _serial(port, "GET / (static)", ["/"]),
            ]
    return PortalRun(debtors, rate, seconds, API_PROCESSES, results)


if __name__ == "__main__":
    from bench.__main__ import POSTGRES, REDIS

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 200.0
    run = portal_under_load(POSTGRES, REDIS, count, rate, seconds)
    print(
        f"{run.debtors:,} debtors, {run.rate:.0f}/s for {run.seconds:.0f} s, "
        f"{run.processes} API processes"
    )
    for result in run.results:
        print(result)
