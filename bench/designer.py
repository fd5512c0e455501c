"""The designer with a 500-node flow: time to the first interactive render, validation round trip.

``procedo serve --demo`` runs on a fresh data directory; Debian's Chromium
(``/usr/bin/chromium``, driven by playwright; its own browsers are never used)
logs in, and opens a 500-node flow again and again in a fresh page. The render
time runs from navigation start until the start node is on the canvas and the
problems counter has the server's first answer; the round trip is
``POST /api/v1/flows/validate`` of the whole flow from the page, as the canvas
sends it on every change.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.api_load import _free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
NODES = 500
_LOGIN = re.compile(r"demo login: tenant '([^']+)', (\S+), password (\S+)")


@dataclass(frozen=True)
class DesignerRun:
    render_ms: list[float]
    validate_ms: list[float]


def big_flow() -> dict[str, Any]:
    """start, 498 status changes in a chain, end: laid out on a grid."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}}]
    edges: list[dict[str, Any]] = []
    previous = "start"
    for i in range(1, NODES - 1):
        node = f"step_{i}"
        nodes.append(
            {
                "id": node,
                "type": "status_change",
                "label": f"Step {i}",
                "params": {"status": "checking"},
                "position": {"x": (i % 25) * 260, "y": (i // 25) * 140},
            }
        )
        edges.append({"id": f"e{i}", "source": previous, "source_port": "next", "target": node})
        previous = node
    nodes.append({"id": "end", "type": "end", "position": {"x": 0, "y": 3000}})
    edges.append({"id": "e_end", "source": previous, "source_port": "next", "target": "end"})
    return {
        "format": "procedo.flow/1",
        "key": "five-hundred",
        "name": "Five hundred nodes",
        "subject_type": "invoice",
        "trigger": {"kind": "manual"},
        "nodes": nodes,
        "edges": edges,
    }


@contextmanager
def _demo_server() -> Iterator[tuple[str, tuple[str, str, str]]]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        process = subprocess.Popen(
            [sys.executable, "-m", "procedo", "serve", "--demo", "--port", str(port)],
            env={**os.environ, "PROCEDO_DATA_DIR": data},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            login = None
            deadline = time.monotonic() + 120
            assert process.stdout is not None
            for line in process.stdout:
                found = _LOGIN.search(line)
                if found:
                    login = (found.group(1), found.group(2), found.group(3))
                if "Application startup complete" in line and login:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("procedo serve --demo did not start")
            if login is None:
                raise RuntimeError("procedo serve --demo printed no login")
            yield f"http://127.0.0.1:{port}", login
        finally:
            process.terminate()
            process.wait()


def designer_run(runs: int) -> DesignerRun:
    from playwright.sync_api import sync_playwright

    flow = big_flow()
    render, validate = [], []
    with _demo_server() as (url, (tenant, email, password)), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=url, viewport={"width": 1500, "height": 900})
        page = context.new_page()
        page.goto("/")
        page.fill("input[name=tenant]", tenant)
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_selector(".flows-table")
        csrf = next(c["value"] for c in context.cookies() if c["name"] == "procedo_csrf")
        headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        answer = page.request.post("/api/v1/flows/import", headers=headers, data=json.dumps(flow))
        if not answer.ok:
            raise RuntimeError(f"the 500-node flow was refused: {answer.text()}")
        for _ in range(runs + 1):  # the first opening warms the server's caches
            fresh = context.new_page()
            fresh.goto("/flows/five-hundred")
            fresh.wait_for_selector(".react-flow__node[data-id='start']")
            fresh.wait_for_selector("[data-testid=problem-count]")
            render.append(float(fresh.evaluate("performance.now()")))
            validate.append(
                float(
                    fresh.evaluate(
                        """async ([flow, csrf]) => {
                          const t0 = performance.now();
                          const r = await fetch('/api/v1/flows/validate', {method: 'POST',
                            body: JSON.stringify(flow),
                            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}});
                          await r.json();
                          return performance.now() - t0;
                        }""",
                        [flow, csrf],
                    )
                )
            )
            fresh.close()
        browser.close()
    return DesignerRun(render[1:], validate[1:])


if __name__ == "__main__":
    run = designer_run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    print(f"first interactive render: median {statistics.median(run.render_ms):.0f} ms")
    print(f"validation round trip: median {statistics.median(run.validate_ms):.0f} ms")
