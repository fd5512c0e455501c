"""The priority order of scheduled workflows over HTTP (issue 16, D5): administrators
set it, the list comes in it, a wrong order is refused naming what is wrong, and a
run's record says whom it acted on and whom it skipped, and why.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.api_helpers import embedded_backend, live_server, office, ok
from tests.conftest import EXAMPLES
from tests.receivables_helpers import overdue_debtor

BASE = {"name": "X", "email": "x@example.nl", "problematic": False, "dunning_notices": 0}
JSON = {"Content-Type": "application/json"}
UTC = dt.UTC


def _document(key: str, name: str) -> bytes:
    flow = json.loads((EXAMPLES / "dunning-level-1.json").read_text())
    flow["key"], flow["name"] = key, name
    return json.dumps(flow).encode()


def test_admins_order_the_schedules_over_http(tmp_path: Path) -> None:
    with embedded_backend(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as backend:
        rt = backend.runtime
        with live_server(rt) as url:
            acme = office(rt, url, "Acme Office")
            for key, name in (("reminder", "Reminder"), ("first-notice", "First notice")):
                ok(acme.http.post("/flows/import", content=_document(key, name), headers=JSON), 201)
                ok(acme.http.post(f"/flows/{key}/publish"), 201)
            listed = ok(acme.http.get("/schedules"))
            assert [s["flow"] for s in listed] == ["reminder", "first-notice"]  # publishing order
            order = ok(
                acme.http.put("/schedules/order", json={"flows": ["first-notice", "reminder"]})
            )
            assert [(s["flow"], s["position"]) for s in order] == [
                ("first-notice", 1),
                ("reminder", 2),
            ]
            assert [s["flow"] for s in ok(acme.http.get("/schedules"))] == [
                "first-notice",
                "reminder",
            ]
            refused = acme.http.put("/schedules/order", json={"flows": ["reminder", "nope"]})
            assert refused.status_code == 422
            detail = refused.json()["detail"]
            assert "nope" in detail
            assert "missing: first-notice" in detail
            assert next(s["flow"] for s in ok(acme.http.get("/schedules"))) == "first-notice"

            today = dt.datetime.now(UTC).date()
            overdue_debtor(rt, acme.tenant_id, "due", BASE, 9, today)
            ran = ok(acme.http.post("/schedules/reminder/run"))
            assert (ran["selected"], ran["started"]) == (1, 1)
            (run,) = ok(acme.http.get("/schedules/reminder/runs"))
            assert (run["id"], run["selected"], run["acted"], run["manual"]) == (
                ran["run_id"],
                1,
                1,
                True,
            )
            again = ok(acme.http.post("/schedules/reminder/run"))
            (skipped,) = ok(acme.http.get(f"/schedules/runs/{again['run_id']}/subjects"))
            assert (skipped["key"], skipped["outcome"]) == ("due", "open")
            assert skipped["reason"] == "an instance of this workflow is still open on it"
