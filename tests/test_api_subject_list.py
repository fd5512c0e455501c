"""The subject list behind the designer's Subjects page: search, filters, paging, count."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.db.receivables import OpenItem
from tests.api_helpers import Office, office, ok
from tests.receivables_helpers import add_open_items

DEBTORS = {
    "D-001": {"name": "Bakkerij Jansen"},
    "D-002": {"name": "Garage 100% Van Dijk"},
    "D-003": {"name": 'Café "De Hoek"'},
    "D-004": {"name": "Jansen_Metaal"},
    "D-JANSEN": {"name": "Smit"},
}


def _fill(o: Office) -> None:
    for key, fields in DEBTORS.items():
        ok(o.http.post("/subjects", json={"type": "debtor", "key": key, "fields": fields}), 201)
    invoice = {"invoice_number": "F-77", "supplier": {"name": "Jansen Leveranciers"}}
    ok(o.http.post("/subjects", json={"type": "invoice", "key": "INV-1", "fields": invoice}), 201)
    ok(o.http.patch(f"/subjects/{_id(o, 'D-002')}", json={"status": "dispute"}))


def _id(o: Office, key: str) -> str:
    return str(ok(o.http.get("/subjects", params={"key": key}))[0]["id"])


def _keys(o: Office, **params: Any) -> list[str]:
    return [s["key"] for s in ok(o.http.get("/subjects", params=params))]


def test_search_filters_and_paging(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    _fill(acme)
    # Key or name, any case; a nested name (an invoice's supplier) counts too.
    assert _keys(acme, q="jansen") == ["D-001", "D-004", "D-JANSEN", "INV-1"]
    assert _keys(acme, q="JANSEN", type="debtor") == ["D-001", "D-004", "D-JANSEN"]
    assert _keys(acme, q="F-77") == ["INV-1"]
    # % and _ are taken as they are, not as wildcards; quotes in a name are found.
    assert _keys(acme, q="100%") == ["D-002"]
    assert _keys(acme, q="n_m") == ["D-004"]
    assert _keys(acme, q='"De Hoek"') == ["D-003"]
    assert _keys(acme, q="nobody") == []
    assert _keys(acme, type="debtor", status="dispute") == ["D-002"]
    # Pages in the order of type and key; the count covers every page.
    answer = acme.http.get("/subjects", params={"type": "debtor", "limit": 2, "offset": 2})
    assert [s["key"] for s in ok(answer)] == ["D-003", "D-004"]
    assert answer.headers["X-Total-Count"] == "5"
    assert acme.http.get("/subjects").headers["X-Total-Count"] == "6"
    assert "X-Total-Count" not in acme.http.get("/subjects", params={"q": "x"}).headers


def test_search_stays_in_the_tenant(backend: Backend, base_url: str) -> None:
    acme, other = (office(backend.runtime, base_url, n) for n in ("Acme Office", "Other Office"))
    _fill(acme)
    assert _keys(other, q="jansen") == []
    answer = other.http.get("/subjects", params={"type": "debtor"})
    assert ok(answer) == []
    assert answer.headers["X-Total-Count"] == "0"


def test_bad_search_is_refused_naming_the_parameter(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    for params in ({"q": ""}, {"q": "x" * 101}, {"q": "a\x00b"}):
        answer = acme.http.get("/subjects", params=params)
        assert answer.status_code == 400, answer.text
        assert "q" in answer.json()["detail"] + str(answer.json().get("extra", ""))
    anonymous = httpx.get(f"{base_url}/api/v1/subjects", params={"q": "jansen"})
    assert anonymous.status_code == 401


def test_a_debtors_open_items_open_first(backend: Backend, base_url: str) -> None:
    acme, other = (office(backend.runtime, base_url, n) for n in ("Acme Office", "Other Office"))
    _fill(acme)
    debtor = _id(acme, "D-001")
    day = dt.date(2026, 11, 1)
    add_open_items(
        backend.runtime,
        acme.tenant_id,
        uuid.UUID(debtor),
        [
            ("F-3", day, "30.00"),
            ("F-1", day + dt.timedelta(days=9), "10.00"),
            ("F-2", day, "20.00"),
        ],
    )
    with backend.runtime.db.transaction() as session:
        session.execute(
            sa.update(OpenItem).where(OpenItem.number == "F-3").values(status="paid", open_amount=0)
        )
    items = ok(acme.http.get(f"/subjects/{debtor}/open-items"))
    assert [(i["number"], i["status"]) for i in items] == [
        ("F-2", "open"),
        ("F-1", "open"),
        ("F-3", "paid"),
    ]
    assert items[0]["open_amount"] == "20.00"
    assert items[0]["due_date"] == "2026-11-01"
    assert other.http.get(f"/subjects/{debtor}/open-items").status_code == 404


def test_a_page_of_debtors_brings_the_computed_facts_asked_for(
    backend: Backend, base_url: str
) -> None:
    """The subjects list's debt and D.I.P. columns: computed for the page's rows, as of today."""
    acme = office(backend.runtime, base_url, "Acme Office")
    _fill(acme)
    today = backend.runtime.clock.now().date()
    add_open_items(
        backend.runtime,
        acme.tenant_id,
        uuid.UUID(_id(acme, "D-001")),
        [("F-1", today - dt.timedelta(days=30), "120.00"), ("F-2", today, "30.50")],
    )
    params = {"type": "debtor", "facts": "debt_amount,oldest_overdue_days", "limit": 2}
    rows = ok(acme.http.get("/subjects", params=params))
    assert [r["key"] for r in rows] == ["D-001", "D-002"]
    assert rows[0]["fields"]["debt_amount"] == "150.50"
    assert rows[0]["fields"]["oldest_overdue_days"] in (29, 30, 31)  # the tenant's today
    assert rows[0]["fields"]["name"] == "Bakkerij Jansen"  # stored fields stay
    assert rows[1]["fields"]["debt_amount"] == "0.00"
    assert rows[1]["fields"]["oldest_overdue_days"] is None
    # Without facts= nothing is computed; a wrong name or a missing type is refused by name.
    assert (
        "debt_amount" not in ok(acme.http.get("/subjects", params={"type": "debtor"}))[0]["fields"]
    )
    for bad in ({"type": "debtor", "facts": "name"}, {"facts": "debt_amount"}):
        answer = acme.http.get("/subjects", params=bad)
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"].startswith("facts:")
