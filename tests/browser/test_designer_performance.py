"""A 500-node flow in the designer: time to the first interactive render, and the
validation round trip the canvas waits for on every change.

The targets (issue 5) are under 1 s and under 150 ms; this machine is shared and
CI machines vary, so the test fails only well above them and prints the figures.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from bench.designer import big_flow
from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in


def test_500_nodes(page: Any, server: Server) -> None:
    log_in(page, server)
    flow = big_flow()
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "procedo_csrf")
    response = page.request.post(
        "/api/v1/flows/import",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        data=json.dumps(flow),
    )
    assert response.ok, response.text()

    page.goto("/flows/five-hundred")
    page.wait_for_selector(".react-flow__node[data-id='start']")
    page.wait_for_selector("[data-testid=problem-count]")
    rendered_ms = page.evaluate("performance.now()")

    times = page.evaluate(
        """async (flow) => {
          const csrf = document.cookie.split('; ')
            .find(c => c.startsWith('procedo_csrf=')).slice(13);
          const out = [];
          for (let i = 0; i < 7; i++) {
            const t0 = performance.now();
            const r = await fetch('/api/v1/flows/validate', {
              method: 'POST', body: JSON.stringify(flow),
              headers: {'Content-Type': 'application/json',
                        'X-CSRF-Token': decodeURIComponent(csrf)}});
            await r.json();
            out.push(performance.now() - t0);
          }
          return out;
        }""",
        flow,
    )
    validate_ms = statistics.median(times)

    # Dragging a node moves it (the canvas stays interactive).
    target = page.locator(".react-flow__node[data-id='start']")
    box = target.bounding_box()
    assert box
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 80, steps=20)
    page.mouse.up()
    moved = target.bounding_box()
    assert moved
    assert moved["x"] > box["x"]

    print(
        f"\n500 nodes: first interactive render {rendered_ms:.0f} ms; "
        f"validation round trip median {validate_ms:.0f} ms "
        f"({', '.join(f'{t:.0f}' for t in times)})"
    )
    assert rendered_ms < 8000
    assert validate_ms < 2000
    assert api(page, "GET", "/flows/five-hundred")["key"] == "five-hundred"
