"""GET /subjects/{id}/facts: a debtor's computed facts over HTTP, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from procedo.api import app as app_module
from procedo.api.resources.facts import SubjectFactsController
from procedo.clock import FakeClock
from procedo.db.models import History, Subject
from procedo.db.receivables import OpenItem
from tests.api_helpers import live_server, office, ok

if TYPE_CHECKING:
    from procedo.api.server import Backend

# 23:30 UTC on 28 March 2026: already Sunday 29 March in Amsterdam.
NOW = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def facts_url(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if SubjectFactsController not in app_module.CONTROLLERS:
        monkeypatch.setattr(
            app_module, "CONTROLLERS", [*app_module.CONTROLLERS, SubjectFactsController]
        )
    monkeypatch.setattr(backend.runtime, "clock", FakeClock(NOW))
    with live_server(backend.runtime) as url:
        yield url


def test_a_debtors_facts_today(backend: Backend, facts_url: str) -> None:
    rt = backend.runtime
    acme = office(rt, facts_url, "Acme")
    other = office(rt, facts_url, "Other")
    debtor = ok(
        acme.http.post(
            "/subjects",
            json={"type": "debtor", "key": "D1", "fields": {"name": "J", "credit_limit": "100"}},
        ),
        201,
    )
    debtor_id = uuid.UUID(debtor["id"])

    def item(
        number: str, due: dt.date, open_amount: str, status: str = "open"
    ) -> dict[str, object]:
        return {
            "tenant_id": acme.tenant_id,
            "debtor_id": debtor_id,
            "number": number,
            "issue_date": due - dt.timedelta(days=30),
            "due_date": due,
            "amount": Decimal("200.00"),
            "open_amount": Decimal(open_amount),
            "status": status,
        }

    with rt.db.transaction() as session:
        session.execute(
            sa.insert(OpenItem),
            [
                item("1", dt.date(2026, 3, 1), "0.00", "paid"),  # the oldest, paid
                item("2", dt.date(2026, 3, 9), "150.25", "dispute"),
                item("3", dt.date(2026, 3, 19), "80.00"),  # leads: 10 days overdue
                item("4", dt.date(2026, 3, 29), "20.00"),  # due today (Amsterdam)
            ],
        )
        session.execute(
            sa.insert(History).values(
                tenant_id=acme.tenant_id,
                subject_id=debtor_id,
                instance_id=uuid.uuid4(),
                kind="letter_queued",
                at=dt.datetime(2026, 3, 20, 23, 15, tzinfo=dt.UTC),  # 21 March locally
                data={"mark": "dunning_notice"},
            )
        )
    answer = ok(acme.http.get(f"/subjects/{debtor_id}/facts"))
    assert answer["today"] == "2026-03-29"
    facts = answer["facts"]
    assert facts["oldest_overdue_days"] == 10
    assert facts["procedure_due_date"] == "2026-03-19"
    assert facts["oldest_due_date"] == "2026-03-09"
    assert Decimal(facts["debt_amount"]) == Decimal("250.25")
    assert facts["credit_limit_exceeded"] is True
    assert facts["dunning_notices"] == 1
    assert facts["last_dunning_date"] == "2026-03-21"
    assert facts["days_since_last_dunning"] == 8
    assert facts["paid"] is False
    assert facts["payment_date_overdue_days"] is None

    # Another tenant cannot read them.
    assert other.http.get(f"/subjects/{debtor_id}/facts").status_code == 404
    with rt.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Subject)) == 1
