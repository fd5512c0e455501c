"""The designer with a 500-node flow (first interactive render, validation round trip), and
the subject list with 100,000 subjects (first page, filter, search).

``procedo serve --demo`` runs on a fresh data directory; Debian's Chromium
(``/usr/bin/chromium``, driven by playwright; its own browsers are never used)
logs in, and opens a 500-node flow again and again in a fresh page. The render
time runs from navigation start until the start node is on the canvas and the
problems counter has the server's first answer; the round trip is
``POST /api/v1/flows/validate`` of the whole flow from the page, as the canvas
sends it on every change.

``subject_list_run`` adds 100,000 debtors and clients to the demo tenant (straight into
its SQLite file, in one transaction) and times, from the page, the requests the
Subjects page makes: its first page (every type, with the count), a type and status
filter, and a search; and in the page, choosing a type until the new rows are drawn.
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


SUBJECTS = 100_000
_ROWS = "[data-testid=subjects-table] tbody tr[data-subject]"


@dataclass(frozen=True)
class SubjectListRun:
    first_page_ms: list[float]
    filter_ms: list[float]
    search_ms: list[float]
    search_rare_ms: list[float]
    redraw_ms: list[float]


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
def _demo_server(data_dir: str | None = None) -> Iterator[tuple[str, tuple[str, str, str]]]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as scratch:
        data = data_dir or scratch
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
                if found and login is None:  # the admin's comes first, then each person's
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


def add_subjects(data_dir: str, count: int) -> None:
    """``count`` debtors and clients for the demo tenant, as an import would leave them."""
    import uuid

    import sqlalchemy as sa

    from procedo.db import models as m
    from procedo.db.session import Database

    db = Database(f"sqlite:///{data_dir}/procedo.db")
    with db.read() as session:
        tenant_id = session.scalar(sa.select(m.Tenant.id).where(m.Tenant.slug == "demo"))
    words = ["Bakkerij", "Garage", "Jansen", "De Vries", "Smit", "Visser", "Mulder", "Bos"]
    statuses = ["active", "promised", "dispute", "paid"]
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "type": "debtor" if i % 5 else "client",
            "key": f"B-{i:06d}",
            "status": statuses[i % len(statuses)],
            "fields": {
                "name": f"{words[i % 8]} {words[(i // 8) % 8]} {i}",
                "email": f"office{i}@example.com",
                "debt_amount": f"{(i * 37) % 9000}.50",
            },
        }
        for i in range(count)
    ]
    with db.engine.begin() as connection:
        for first in range(0, count, 5000):
            connection.execute(sa.insert(m.Subject), rows[first : first + 5000])
    db.dispose()


_TIMED_FETCH = """async (path) => {
  const t0 = performance.now();
  const r = await fetch('/api/v1' + path);
  await r.json();
  return performance.now() - t0;
}"""


def subject_list_run(runs: int) -> SubjectListRun:
    from playwright.sync_api import sync_playwright

    paths = {
        "first": "/subjects?limit=51&offset=0",
        "filter": "/subjects?limit=51&offset=0&type=debtor&status=dispute",
        "search": "/subjects?limit=51&offset=0&type=debtor&q=jansen",
        "rare": "/subjects?limit=51&offset=0&q=nobody-is-called-this",
    }
    timings: dict[str, list[float]] = {name: [] for name in [*paths, "redraw"]}
    with tempfile.TemporaryDirectory() as data:
        with _demo_server(data):
            pass  # the demo tenant made, then the subjects added while nothing runs
        add_subjects(data, SUBJECTS)
        with _demo_server(data) as (url, (tenant, email, password)), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(base_url=url, viewport={"width": 1500, "height": 900})
            page.goto("/")
            page.fill("input[name=tenant]", tenant)
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_selector(".flows-table")
            page.goto("/subjects")
            page.wait_for_selector(_ROWS)
            for run in range(runs + 1):  # the first round warms the server's caches
                for name, path in paths.items():
                    took = float(page.evaluate(_TIMED_FETCH, path))
                    if run:
                        timings[name].append(took)
                kind = "client" if run % 2 else "debtor"
                started = float(page.evaluate("performance.now()"))
                page.select_option("select[name=type]", kind)
                page.wait_for_function(
                    f"k => [...document.querySelectorAll('{_ROWS}')]"
                    ".every(r => r.dataset.subject.startsWith('B-')) && "
                    "document.querySelector('select[name=type]').value === k && "
                    f"document.querySelectorAll('{_ROWS}').length === 50",
                    arg=kind,
                )
                if run:
                    timings["redraw"].append(float(page.evaluate("performance.now()")) - started)
            browser.close()
    return SubjectListRun(
        timings["first"], timings["filter"], timings["search"], timings["rare"], timings["redraw"]
    )


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    run = designer_run(runs)
    print(f"first interactive render: median {statistics.median(run.render_ms):.0f} ms")
    print(f"validation round trip: median {statistics.median(run.validate_ms):.0f} ms")
    listed = subject_list_run(runs)
    for label, values in [
        ("subject list, first page", listed.first_page_ms),
        ("subject list, type and status filter", listed.filter_ms),
        ("subject list, search", listed.search_ms),
        ("subject list, search matching nothing", listed.search_rare_ms),
        ("subject list, type chosen until redrawn", listed.redraw_ms),
    ]:
        print(f"{label}: median {statistics.median(values):.0f} ms")
