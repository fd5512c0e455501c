"""Open items and payments: real foreign keys, amounts exact to the cent, known statuses."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from procedo.db.models import Base, Subject, Tenant
from procedo.db.receivables import OpenItem, Payment


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(db_url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(
            engine, "connect", lambda conn, _rec: conn.execute("PRAGMA foreign_keys=ON")
        )
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _debtor(connection: sa.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    tenant, debtor = uuid.uuid4(), uuid.uuid4()
    connection.execute(sa.insert(Tenant).values(id=tenant, name="T", slug=f"t{tenant.hex[:8]}"))
    connection.execute(
        sa.insert(Subject).values(id=debtor, tenant_id=tenant, type="debtor", key="D1", fields={})
    )
    return tenant, debtor


def _item(tenant: uuid.UUID, debtor: uuid.UUID, **changes: object) -> dict[str, object]:
    return {
        "tenant_id": tenant,
        "debtor_id": debtor,
        "number": "INV-1",
        "issue_date": dt.date(2026, 1, 1),
        "due_date": dt.date(2026, 1, 31),
        "amount": Decimal("1234.10"),
        "open_amount": Decimal("0.30"),
    } | changes


def test_amounts_come_back_exact_and_sum_exactly(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        tenant, debtor = _debtor(connection)
        connection.execute(
            sa.insert(OpenItem),
            [
                _item(tenant, debtor, number="A", open_amount=Decimal("0.10")),
                _item(tenant, debtor, number="B", open_amount=Decimal("0.20")),
                _item(tenant, debtor, number="C", kind="credit_note", open_amount=Decimal("-0.05")),
            ],
        )
        amounts = connection.execute(
            sa.select(OpenItem.amount, OpenItem.open_amount).order_by(OpenItem.number)
        ).all()
        total = connection.scalar(sa.select(sa.func.sum(OpenItem.open_amount)))
    assert amounts[0] == (Decimal("1234.10"), Decimal("0.10"))
    # Binary floats would make this 0.25000000000000006 on SQLite.
    assert total == Decimal("0.25")


def test_more_than_cents_is_refused_before_anything_is_stored(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        tenant, debtor = _debtor(connection)
    bad = _item(tenant, debtor, amount="1.005")
    with (
        pytest.raises(sa.exc.StatementError, match="more than two decimals"),
        engine.begin() as connection,
    ):
        connection.execute(sa.insert(OpenItem).values(bad))
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(OpenItem)) == 0


def test_an_item_needs_an_existing_debtor_and_a_known_status(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        tenant, debtor = _debtor(connection)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(OpenItem).values(_item(tenant, uuid.uuid4())))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(OpenItem).values(_item(tenant, debtor, status="lost")))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(OpenItem), [_item(tenant, debtor), _item(tenant, debtor)])


def test_deleting_a_debtor_takes_its_items_and_unmatches_its_payments(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        tenant, debtor = _debtor(connection)
        item = connection.execute(
            sa.insert(OpenItem).values(_item(tenant, debtor)).returning(OpenItem.id)
        ).scalar_one()
        connection.execute(
            sa.insert(Payment).values(
                tenant_id=tenant,
                debtor_id=debtor,
                open_item_id=item,
                amount=Decimal("0.30"),
                paid_on=dt.date(2026, 2, 1),
                status="matched",
            )
        )
        connection.execute(sa.delete(Subject).where(Subject.id == debtor))
        assert connection.scalar(sa.select(sa.func.count()).select_from(OpenItem)) == 0
        payment = connection.execute(sa.select(Payment.debtor_id, Payment.open_item_id)).one()
    assert tuple(payment) == (None, None)
