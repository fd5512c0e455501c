"""The bulk writers store what SQLAlchemy's own insert and update would, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.bulk import insert_rows, update_guarded
from procedo.db.session import Database

MOMENT = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
TENANT, SUBJECT, FLOW, VERSION = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def db(db_url: str) -> Any:
    database = Database(db_url)
    database.create_all()
    with database.transaction() as session:
        session.add(m.Tenant(id=TENANT, name="T", slug="t"))
    yield database
    database.dispose()


def _outbox_row(message_id: str) -> dict[str, Any]:
    # Leaves out columns with defaults (status, attempts, created_at...): the writer fills them.
    return {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "kind": "email",
        "message_id": message_id,
        "recipients": ["anna@acme.example", "bram@acme.example"],
        "subject": "Invoice 'INV-1' rejected",
        "body": "<p>Ünïcode, quotes ' \" and a tab\t and a backslash \\</p>",
        "next_attempt_at": MOMENT,
    }


def _stored(session: Any, message_id: str) -> dict[str, Any]:
    row = session.scalar(sa.select(m.Outbox).where(m.Outbox.message_id == message_id))
    return {c.key: getattr(row, c.key) for c in m.Outbox.__table__.columns if c.key != "id"}


def test_insert_rows_stores_what_table_insert_stores(db: Database) -> None:
    with db.transaction() as session:
        insert_rows(session, m.Outbox.__table__, [_outbox_row("<bulk>")])  # type: ignore[arg-type]
        session.execute(sa.insert(m.Outbox), [_outbox_row("<orm>")])
    with db.read() as session:
        bulk, orm = _stored(session, "<bulk>"), _stored(session, "<orm>")
    assert bulk.pop("message_id") == "<bulk>"
    assert orm.pop("message_id") == "<orm>"
    # created_at comes from the same default (now); both must be aware UTC and close.
    assert abs(bulk.pop("created_at") - orm.pop("created_at")) < dt.timedelta(seconds=5)
    assert bulk == orm
    assert (bulk["status"], bulk["attempts"]) == ("pending", 0)
    assert bulk["next_attempt_at"] == MOMENT


def test_insert_rows_names_an_unknown_column(db: Database) -> None:
    with db.transaction() as session, pytest.raises(KeyError, match=r"no column.*colour"):
        insert_rows(session, m.Outbox.__table__, [{"colour": "red"}])  # type: ignore[arg-type]


def _instance(version: int) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "flow_version_id": VERSION,
        "subject_id": SUBJECT,
        "status": "pending",
        "version": version,
        "variables": {},
        "started_at": MOMENT,
        "updated_at": MOMENT,
    }


def test_guarded_update_applies_where_the_version_matches(db: Database) -> None:
    with db.transaction() as session:
        session.add(m.Subject(id=SUBJECT, tenant_id=TENANT, type="invoice", key="I-1"))
        session.add(m.Flow(id=FLOW, tenant_id=TENANT, key="f", name="F"))
        session.flush()
        session.add(
            m.FlowVersion(
                id=VERSION,
                tenant_id=TENANT,
                flow_id=FLOW,
                number=1,
                document="{}",
                subject_type="invoice",
                trigger_kind="manual",
            )
        )
        session.flush()
        rows = [_instance(3), _instance(3), _instance(7)]
        insert_rows(session, m.Instance.__table__, rows)  # type: ignore[arg-type]
    later = MOMENT + dt.timedelta(hours=1)
    changes = [
        {
            "b_id": row["id"],
            "b_version": 3,  # the third row is at 7: someone else got there first
            "version": 4,
            "status": "completed",
            "variables": {"amount": "12.50", "nested": {"ok": True}},
            "ended_at": later,
            "error": None,
        }
        for row in rows
    ]
    columns = ("version", "status", "variables", "ended_at", "error")
    with db.transaction() as session:
        matched = update_guarded(session, m.Instance.__table__, columns, changes)  # type: ignore[arg-type]
    assert matched == 2
    with db.read() as session:
        stored = {i.id: i for i in session.scalars(sa.select(m.Instance))}
    for row in rows[:2]:
        instance = stored[row["id"]]
        assert (instance.version, instance.status, instance.ended_at) == (4, "completed", later)
        assert instance.variables == {"amount": "12.50", "nested": {"ok": True}}
    untouched = stored[rows[2]["id"]]
    assert (untouched.version, untouched.status, untouched.ended_at) == (7, "pending", None)
