"""Runs the benchmarks and prints medians; ``--write`` updates docs/benchmarks.md.

Each figure is the median of several runs (min and max beside it), with a peer
measured in the same run on the same data, so a noisy machine moves both.
``python -m bench [--quick] [--write] [--only flow,embedded,...,api,designer]``.
The distributed parts need PostgreSQL and Redis (PROCEDO_BENCH_POSTGRES,
PROCEDO_BENCH_REDIS; defaults: the local test services).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from bench.big_flow import big_flow
from procedo import __version__
from procedo.flow.codec import decode_flow, encode_flow
from procedo.flow.validate import check_flow
from procedo.registry import default_registry
from procedo.subjects import builtin_subject_types

if TYPE_CHECKING:
    from bench.designer import SubjectListRun

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
POSTGRES = os.environ.get(
    "PROCEDO_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("PROCEDO_BENCH_REDIS", "redis://127.0.0.1:6379/14")


def spread(values: list[float], unit: str, digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"(min {min(values):.{digits}f}, max {max(values):.{digits}f})"
    )


def measure(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm caches (registry, subject types, holiday tables)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def flow_section(runs: int, nodes: int) -> list[str]:
    data = json.dumps(big_flow(nodes)).encode()
    flow = decode_flow(data)
    canonical = encode_flow(flow)
    registry, subject_types = default_registry(), builtin_subject_types()
    assert check_flow(flow, registry, subject_types).ok, "the benchmark flow must be valid"
    validate = measure(lambda: check_flow(decode_flow(canonical), registry, subject_types), runs)
    plain = measure(lambda: msgspec.json.decode(canonical), runs)
    round_trip = measure(lambda: encode_flow(decode_flow(canonical)), runs)
    stdlib = measure(lambda: json.dumps(json.loads(canonical), indent=2, sort_keys=True), runs)
    ratio = statistics.median(round_trip) / statistics.median(stdlib)
    return [
        f"### Flow files ({len(flow.nodes)} nodes, {runs} runs)",
        "",
        "| what | time | peer in the same run |",
        "| --- | --- | --- |",
        f"| validate (read + every check) | {spread(validate, 'ms')} | untyped JSON decode "
        f"{spread(plain, 'ms')} |",
        f"| canonical export + re-import | {spread(round_trip, 'ms')} | stdlib json loads+dumps "
        f"{spread(stdlib, 'ms')}: ratio {ratio:.2f} |",
        "",
    ]


def embedded_section(runs: int, instances: int) -> list[str]:
    from bench.embedded import run_procedo
    from bench.spiff_peer import run_spiff

    procedo: list[float] = []
    single: list[float] = []
    spiff: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            spiff.append(run_spiff(instances, Path(folder) / "spiff.db").per_second)
            procedo.append(run_procedo(instances, Path(folder) / "p.db", "batched").per_second)
            single.append(run_procedo(instances, Path(folder) / "s.db", "single").per_second)
    # Each round runs both engines back to back: the median of the rounds' ratios is
    # steadier on a noisy machine than a ratio of medians taken minutes apart.
    ratio = statistics.median(p / s for p, s in zip(procedo, spiff, strict=True))
    single_ratio = statistics.median(p / s for p, s in zip(single, spiff, strict=True))
    return [
        f"### Embedded: invoice approval, {instances} instances, half via a task ({runs} runs)",
        "",
        "Ratios: the median of each round's ratio (both engines run back to back).",
        "",
        "| engine | instances per second | ratio to SpiffWorkflow |",
        "| --- | --- | --- |",
        f"| Procedo, batched starts and approvals | {spread(procedo, '/s', 0)} | {ratio:.2f} |",
        f"| Procedo, one transaction per call | {spread(single, '/s', 0)} | {single_ratio:.2f} |",
        f"| SpiffWorkflow 3, state saved to SQLite per wait state | {spread(spiff, '/s', 0)} | 1 |",
        "",
    ]


def distributed_section(runs: int, instances: int) -> list[str]:
    from bench.distributed import single_row_commits, throughput

    results = [throughput(POSTGRES, REDIS, instances) for _ in range(runs)]
    steps = [r.engine_steps_per_second for r in results]
    noop = [r.noop_messages_per_second for r in results]
    commits = [r.commits_per_wait_state for r in results]
    ceiling = [single_row_commits(POSTGRES, 2000) for _ in range(runs)]
    ratio = statistics.median(steps) / statistics.median(noop)
    beyond = statistics.median(steps) / statistics.median(ceiling)
    return [
        f"### Distributed: PostgreSQL + Redis, 2 worker processes x 8 threads, "
        f"{instances} instances ({runs} runs)",
        "",
        "| what | figure |",
        "| --- | --- |",
        f"| engine steps per second | {spread(steps, '/s', 0)} |",
        f"| no-op dramatiq messages per second (peer) | {spread(noop, '/s', 0)} |",
        f"| ratio engine / no-op | {ratio:.2f} |",
        f"| commits per wait state crossed | {spread(commits, '', 3)} |",
        f"| single-row commits per second, same PostgreSQL (ceiling of one commit per step) "
        f"| {spread(ceiling, '/s', 0)} |",
        f"| ratio engine steps / single-row commits | {beyond:.2f} |",
        "",
    ]


def timers_section(count: int) -> list[str]:
    from bench.distributed import timers_due_at_once

    run = timers_due_at_once(POSTGRES, REDIS, count)
    return [
        f"### {count:,} timers due at once (PostgreSQL + Redis, 2 workers, 1 scheduler)",
        "",
        "| what | figure |",
        "| --- | --- |",
        f"| fire rate | {run.fired_per_second:.0f} timers/s |",
        f"| lateness p50 / p99 | {run.lateness_p50:.1f} s / {run.lateness_p99:.1f} s |",
        f"| fired twice | {run.duplicates} |",
        f"| database size per waiting instance (instance, position, timer, indexes) "
        f"| {run.bytes_per_waiting_instance:.0f} bytes |",
        "",
    ]


def ingest_section(invoices: int, runs: int) -> list[str]:
    from bench.ingest import ingest_runs

    with tempfile.TemporaryDirectory() as folder:
        results = ingest_runs(POSTGRES, REDIS, invoices, runs, Path(folder))
    embedded = [r.embedded_per_second for r in results]
    distributed = [r.distributed_per_second for r in results]
    return [
        f"### UBL invoices in: {invoices:,} parsed, stored, routed to their approval task "
        f"({runs} runs)",
        "",
        "| setup | invoices per second |",
        "| --- | --- |",
        f"| embedded (SQLite, in-process) | {spread(embedded, '/s', 0)} |",
        f"| distributed (PostgreSQL + Redis, 2 worker processes) "
        f"| {spread(distributed, '/s', 0)} |",
        "",
    ]


def designer_section(runs: int) -> list[str]:
    from bench.designer import CHROMIUM, NODES, SUBJECTS, designer_run, subject_list_run

    title = f"### The designer with a {NODES}-node flow ({runs} openings, Chromium)"
    if not Path(CHROMIUM).exists():
        return [title, "", f"Not measured: {CHROMIUM} is missing (apt-get install chromium).", ""]
    run = designer_run(runs)
    return [
        title,
        "",
        "| what | time | target |",
        "| --- | --- | --- |",
        f"| first interactive render (navigation to nodes drawn and validated) "
        f"| {spread(run.render_ms, 'ms', 0)} | under 1000 ms |",
        f"| validation round trip of the whole flow | {spread(run.validate_ms, 'ms', 0)} "
        "| under 150 ms |",
        "",
        *subject_list_rows(subject_list_run(runs), SUBJECTS),
    ]


def subject_list_rows(listed: SubjectListRun, count: int) -> list[str]:
    return [
        f"The Subjects page with {count:,} subjects (SQLite, as `procedo serve --demo`): "
        "requests timed from the page, and choosing a type until the new rows are drawn.",
        "",
        "| what | time | target |",
        "| --- | --- | --- |",
        f"| first page, every type, with the count | {spread(listed.first_page_ms, 'ms', 0)} "
        "| under 300 ms |",
        f"| type and status filter | {spread(listed.filter_ms, 'ms', 0)} | under 300 ms |",
        f"| search, a common name | {spread(listed.search_ms, 'ms', 0)} | under 300 ms |",
        f"| search matching nothing (every row read) | {spread(listed.search_rare_ms, 'ms', 0)} "
        "| under 300 ms |",
        f"| type chosen until the rows are redrawn | {spread(listed.redraw_ms, 'ms', 0)} | |",
        "",
    ]


def api_section(instances: int, seconds: float) -> list[str]:
    from bench.api_load import api_under_load

    run = api_under_load(POSTGRES, REDIS, instances, seconds=seconds)
    rows = [
        f"| `GET {r.path}` | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms | {r.requests} | {r.errors} |"
        for r in run.results
    ]
    return [
        f"### HTTP API under load: {run.rate:.0f} requests/s for {run.seconds:.0f} s, "
        f"{run.instances:,} instances in PostgreSQL",
        "",
        f"`procedo serve --workers {run.processes}` as the API processes and a bearer token; "
        "the two lists in turn, then the peer at the same rate: `/auth/me`, the same HTTP "
        "stack and authentication with no database work.",
        "",
        "| request | p50 | p99 | requests | errors |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB memory"
    except OSError:
        pass
    return "memory unknown"


def _service_versions() -> str:
    import redis
    import sqlalchemy as sa

    found = []
    try:
        engine = sa.create_engine(POSTGRES)
        with engine.connect() as connection:
            found.append(
                f"PostgreSQL {connection.execute(sa.text('SHOW server_version')).scalar()}"
            )
        engine.dispose()
    except sa.exc.SQLAlchemyError:
        found.append("PostgreSQL not reachable")
    try:
        info = redis.Redis.from_url(REDIS).info("server")
        found.append(f"Redis {info['redis_version']}")
    except redis.RedisError:
        found.append("Redis not reachable")
    return ", ".join(found)


def machine() -> str:
    import sqlite3
    from importlib.metadata import version

    libraries = ", ".join(
        f"{name} {version(name)}"
        for name in ("sqlalchemy", "psycopg", "dramatiq", "msgspec", "spiffworkflow")
    )
    return (
        f"Machine: {os.cpu_count()} cores, {_memory()}, {platform.machine()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{_service_versions()}; {libraries}; procedo {__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller and fewer runs")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument("--only", default="flow,embedded,distributed,timers,ingest,api,designer")
    args = parser.parse_args()
    only = set(args.only.split(","))
    quick = args.quick
    started = time.perf_counter()
    lines = [machine(), ""]
    if "flow" in only:
        lines += flow_section(5 if quick else 21, 5000)
    if "embedded" in only:
        lines += embedded_section(3 if quick else 5, 300 if quick else 1000)
    if "distributed" in only:
        lines += distributed_section(1 if quick else 3, 1000 if quick else 5000)
    if "timers" in only:
        lines += timers_section(10_000 if quick else 100_000)
    if "ingest" in only:
        lines += ingest_section(2_000 if quick else 10_000, 1 if quick else 3)
    if "api" in only:
        lines += api_section(20_000 if quick else 100_000, 5 if quick else 20)
    if "designer" in only:
        lines += designer_section(3 if quick else 7)
    minutes = (time.perf_counter() - started) / 60
    lines.append(f"{'--quick' if quick else 'Full'} run, {minutes:.1f} minutes in all.")
    report = "\n".join(lines)
    print(report)
    if args.write:
        text = DOCS.read_text()
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        DOCS.write_text(f"{before}{start}\n{report}\n{end}{after}")


if __name__ == "__main__":
    main()
