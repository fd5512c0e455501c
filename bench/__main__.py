"""Runs the benchmarks and prints medians; ``--write`` updates docs/benchmarks.md.

Each figure is the median of several runs (min and max beside it), with a peer
measured in the same run on the same data, so a noisy machine moves both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from bench.big_flow import big_flow
from procedo import __version__
from procedo.flow.codec import decode_flow, encode_flow
from procedo.flow.validate import check_flow
from procedo.registry import default_registry
from procedo.subjects import builtin_subject_types

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def measure(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm caches (registry, subject types, holiday tables)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def row(name: str, timings: list[float], peer: list[float] | None, peer_name: str) -> str:
    median = statistics.median(timings)
    ratio = f"{median / statistics.median(peer):.1f}x {peer_name}" if peer else ""
    return f"| {name} | {median:.1f} | {min(timings):.1f} | {max(timings):.1f} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument("--nodes", type=int, default=5000)
    args = parser.parse_args()
    runs = 5 if args.quick else 21

    data = json.dumps(big_flow(args.nodes)).encode()
    flow = decode_flow(data)
    canonical = encode_flow(flow)
    registry, subject_types = default_registry(), builtin_subject_types()
    assert check_flow(flow, registry, subject_types).ok, "the benchmark flow must be valid"

    def validate() -> object:
        return check_flow(decode_flow(canonical), registry, subject_types)

    def round_trip() -> object:
        return encode_flow(decode_flow(canonical))

    def stdlib_round_trip() -> object:
        return json.dumps(json.loads(canonical), indent=2, sort_keys=True)

    def plain_decode() -> object:
        return msgspec.json.decode(canonical)

    stdlib = measure(stdlib_round_trip, runs)
    lines = [
        "| benchmark | median ms | min ms | max ms | against a peer in the same run |",
        "| --- | --- | --- | --- | --- |",
        row(
            f"validate a {len(flow.nodes)}-node flow (read + check)",
            measure(validate, runs),
            measure(plain_decode, runs),
            "untyped msgspec decode",
        ),
        row(
            f"canonical export + re-import, {len(flow.nodes)} nodes",
            measure(round_trip, runs),
            stdlib,
            "stdlib json loads+dumps",
        ),
        row("stdlib json loads+dumps (peer)", stdlib, None, ""),
    ]
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"msgspec {msgspec.__version__}, procedo {__version__}, {runs} runs each"
    )
    report = "\n".join([f"Machine: {machine}", "", *lines])
    print(report)
    if args.write:
        text = DOCS.read_text()
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        DOCS.write_text(f"{before}{start}\n{report}\n{end}{after}")


if __name__ == "__main__":
    main()
