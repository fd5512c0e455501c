"""Procedure registrations over HTTP (issue 17, P5): the list says what each procedure is
and for how many debtors it runs; administrators order the primaries, move the default,
and are refused, naming the field, what would leave a debtor with two primaries or none
that can start. Tenant B neither sees nor changes A's registrations.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from procedo.api.server import Backend
from tests.api_helpers import live_server, office, ok
from tests.conftest import EXAMPLES
from tests.receivables_helpers import add_open_items

JSON = {"Content-Type": "application/json"}


def _rule(field: str, op: str, value: str) -> dict[str, Any]:
    return {
        "kind": "compare",
        "field": f"subject.{field}",
        "op": op,
        "value": {"type": "decimal", "value": value},
    }


def _order(listed: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    return [(p["flow_key"], p["kind"], p["default"]) for p in listed]


def test_administrators_manage_registrations_and_tenants_stay_apart(backend: Backend) -> None:
    rt = backend.runtime
    with live_server(rt) as url:
        acme = office(rt, url, "Acme Office")
        beta = office(rt, url, "Beta Office")
        for name in (
            "collection-worksheet",
            "collection-step-by-step",
            "collection-procedure",
            "dispute-procedure",
        ):
            document = (EXAMPLES / f"{name}.json").read_bytes()
            ok(acme.http.post("/flows/import", content=document, headers=JSON), 201)
            ok(acme.http.post(f"/flows/{name}/publish"), 201)
        http = acme.http
        candidates = [c["flow_key"] for c in ok(http.get("/procedures/candidates"))]
        assert "dispute-procedure" in candidates
        ok(http.put("/procedures/collection-worksheet", json={"kind": "primary", "default": True}))
        late = {"kind": "primary", "rule": _rule("oldest_overdue_days", ">=", "30")}
        ok(http.put("/procedures/collection-step-by-step", json=late))
        small = {"kind": "primary", "rule": _rule("debt_amount", "<", "100")}
        ok(http.put("/procedures/collection-procedure", json=small))  # new: comes last
        dispute = {"kind": "secondary", "rule": _rule("disputed_invoices", ">", "0")}
        added = ok(http.put("/procedures/dispute-procedure", json=dispute))
        assert added["rule_text"] == "subject.disputed_invoices > 0"
        assert added["stop_text"] == "subject.disputed_invoices == 0"
        assert (added["name"], added["version"], added["running"]) == (
            "Dispute procedure",
            1,
            0,
        )
        assert _order(ok(http.get("/procedures"))) == [
            ("collection-step-by-step", "primary", False),
            ("collection-procedure", "primary", False),
            ("collection-worksheet", "primary", True),
            ("dispute-procedure", "secondary", False),
        ]

        # Reordered; an edit of the rule without a priority keeps the place.
        order = {"flows": ["collection-procedure", "collection-step-by-step"]}
        listed = ok(http.put("/procedures/order", json=order))
        assert [p["flow_key"] for p in listed][:2] == order["flows"]
        ok(http.put("/procedures/collection-step-by-step", json=late))
        assert [p["flow_key"] for p in ok(http.get("/procedures"))][:2] == order["flows"]
        refused = http.put("/procedures/order", json={"flows": ["collection-procedure"]})
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("$.flows: missing collection-step-by-step")
        refused = http.put(
            "/procedures/order",
            json={"flows": ["collection-procedure", "collection-worksheet"]},
        )
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("$.flows[1]: 'collection-worksheet'")

        # The default moves: the one before needs a rule and goes last among the ruled.
        refused = http.put("/procedures/default", json={"flow_key": "collection-procedure"})
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("$.previous_rule:")
        bad = {"flow_key": "collection-procedure", "previous_rule": _rule("nope", ">", "0")}
        refused = http.put("/procedures/default", json=bad)
        assert refused.status_code == 422
        assert "$.previous_rule" in refused.json()["detail"]
        refused = http.put("/procedures/default", json={"flow_key": "dispute-procedure"})
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("$.flow_key:")
        moved = {
            "flow_key": "collection-procedure",
            "previous_rule": _rule("oldest_overdue_days", ">=", "1"),
        }
        listed = ok(http.put("/procedures/default", json=moved))
        assert _order(listed) == [
            ("collection-step-by-step", "primary", False),
            ("collection-worksheet", "primary", False),
            ("collection-procedure", "primary", True),
            ("dispute-procedure", "secondary", False),
        ]
        assert listed[2]["rule"] is None
        assert listed[1]["rule_text"] == "subject.oldest_overdue_days >= 1"
        refused = http.put(
            "/procedures/collection-worksheet", json={"kind": "primary", "default": True}
        )
        assert refused.status_code == 409
        assert refused.json()["detail"].startswith("$.default:")

        # A flow that is no debtor flow, or not published, is no procedure.
        refused = http.put("/procedures/nothing-here", json={"kind": "secondary", **dispute})
        assert refused.status_code == 404
        draft = json.loads((EXAMPLES / "dispute-procedure.json").read_text())
        draft["key"] = "draft-only"
        ok(http.post("/flows/import", content=json.dumps(draft), headers=JSON), 201)
        refused = http.put("/procedures/draft-only", json=dispute)
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("flow_key: 'draft-only' has no published")

        # Tenant B: sees none of A's, changes none of A's.
        assert ok(beta.http.get("/procedures")) == []
        assert ok(beta.http.get("/procedures/candidates")) == []
        assert beta.http.put("/procedures/order", json=order).status_code == 422
        moved_back = {"flow_key": "collection-worksheet", "previous_rule": small["rule"]}
        assert beta.http.put("/procedures/default", json=moved_back).status_code == 422
        assert beta.http.delete("/procedures/dispute-procedure").status_code == 404
        assert beta.http.put("/procedures/dispute-procedure", json=dispute).status_code == 404
        assert _order(ok(http.get("/procedures"))) == _order(listed)

        # Running for debtors: counted; a running primary is not removed nor made secondary.
        fields = {"name": "Late Ltd", "email": "pay@late.example"}
        debtor = ok(
            http.post("/subjects", json={"type": "debtor", "key": "D-1", "fields": fields}), 201
        )
        items = [("I-1", dt.date(2020, 1, 1), "50.00")]
        add_open_items(rt, acme.tenant_id, uuid.UUID(debtor["id"]), items)
        started = ok(http.post("/procedures/reconcile", json={}))
        assert [s["flow_key"] for s in started] == ["collection-step-by-step"]
        running = {p["flow_key"]: p["running"] for p in ok(http.get("/procedures"))}
        assert running["collection-step-by-step"] == 1
        refused = http.delete("/procedures/collection-step-by-step")
        assert refused.status_code == 409
        assert "primary procedure of 1 debtor" in refused.json()["detail"]
        refused = http.put("/procedures/collection-step-by-step", json=dispute)
        assert refused.status_code == 409
        assert refused.json()["detail"].startswith("kind:")
        ok(http.delete("/procedures/dispute-procedure"), 204)
        assert "dispute-procedure" not in [p["flow_key"] for p in ok(http.get("/procedures"))]
