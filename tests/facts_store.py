"""A small store of debtors, open items and history for the computed-facts tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from procedo.db.models import Base, Flow, FlowVersion, History, Instance, Subject, Task, Tenant
from procedo.db.receivables import OpenItem
from procedo.facts.calendar import Calendar
from procedo.facts.declared import Computed, computed_fields
from procedo.facts.python import load_facts
from procedo.facts.sql import read_value, select_matching, with_facts
from procedo.rules.model import Rule
from procedo.subjects import builtin_subject_types
from tests.conftest import POSTGRES_URL
from tests.test_rules_sql import postgres_engine

DEBTOR: list[Computed] = computed_fields(builtin_subject_types()["debtor"])
TABLES = [
    Tenant.__table__,
    Subject.__table__,
    OpenItem.__table__,
    History.__table__,
    Flow.__table__,
    FlowVersion.__table__,
    Instance.__table__,
    Task.__table__,
]


@dataclass
class Item:
    due: dt.date
    open_amount: Decimal
    status: str = "open"
    amount: Decimal | None = None
    kind: str = "invoice"


@dataclass
class Note:
    """A history row: ``by_workflow`` rows get an instance id."""

    kind: str
    at: dt.datetime
    by_workflow: bool = True
    mark: Any = "dunning_notice"


@dataclass
class CallTask:
    """A task and the ``task_opened`` row its node wrote (with ``mark``, unless None)."""

    status: str = "open"
    mark: Any = "call"
    node: str = "call"


@dataclass
class Debtor:
    fields: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    history: list[Note] = field(default_factory=list)
    tasks: list[CallTask] = field(default_factory=list)


class FactStore:
    """Debtors of one tenant, replaced per example."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.name = engine.dialect.name
        self.tenant_id = uuid.uuid4()
        Base.metadata.create_all(engine, tables=TABLES)
        self.version_id = uuid.uuid4()
        flow_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(sa.insert(Tenant).values(id=self.tenant_id, name="T", slug="facts"))
            connection.execute(
                sa.insert(Flow).values(id=flow_id, tenant_id=self.tenant_id, key="f", name="F")
            )
            connection.execute(
                sa.insert(FlowVersion).values(
                    id=self.version_id,
                    tenant_id=self.tenant_id,
                    flow_id=flow_id,
                    number=1,
                    document="{}",
                    subject_type="debtor",
                    trigger_kind="manual",
                )
            )

    def fill(self, debtors: Sequence[Debtor]) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in debtors]
        items: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for number, (subject_id, debtor) in enumerate(zip(ids, debtors, strict=True)):
            for index, item in enumerate(debtor.items):
                items.append(
                    {
                        "tenant_id": self.tenant_id,
                        "debtor_id": subject_id,
                        "number": f"{number}-{index}",
                        "kind": item.kind,
                        "issue_date": item.due - dt.timedelta(days=30),
                        "due_date": item.due,
                        "amount": item.open_amount if item.amount is None else item.amount,
                        "open_amount": item.open_amount,
                        "status": item.status,
                    }
                )
            for note in debtor.history:
                notes.append(
                    {
                        "tenant_id": self.tenant_id,
                        "subject_id": subject_id,
                        "instance_id": uuid.uuid4() if note.by_workflow else None,
                        "kind": note.kind,
                        "node_id": None,
                        "at": note.at,
                        "data": {} if note.mark is None else {"mark": note.mark},
                    }
                )
        instances: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        for subject_id, debtor in zip(ids, debtors, strict=True):
            if not debtor.tasks:
                continue
            instance_id = uuid.uuid4()
            instances.append(
                {
                    "id": instance_id,
                    "tenant_id": self.tenant_id,
                    "flow_version_id": self.version_id,
                    "subject_id": subject_id,
                }
            )
            for task in debtor.tasks:
                tasks.append(
                    {
                        "tenant_id": self.tenant_id,
                        "instance_id": instance_id,
                        "token_id": uuid.uuid4(),
                        "node_id": task.node,
                        "subject_id": subject_id,
                        "title": "Call",
                        "status": task.status,
                    }
                )
                notes.append(
                    {
                        "tenant_id": self.tenant_id,
                        "subject_id": subject_id,
                        "instance_id": instance_id,
                        "kind": "task_opened",
                        "node_id": task.node,
                        "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                        "data": {} if task.mark is None else {"mark": task.mark},
                    }
                )
        with self.engine.begin() as connection:
            for table in (History, OpenItem, Task, Instance, Subject):
                connection.execute(sa.delete(table))
            if debtors:
                connection.execute(
                    sa.insert(Subject),
                    [
                        {
                            "id": subject_id,
                            "tenant_id": self.tenant_id,
                            "type": "debtor",
                            "key": str(number),
                            "fields": debtor.fields,
                        }
                        for number, (subject_id, debtor) in enumerate(
                            zip(ids, debtors, strict=True)
                        )
                    ],
                )
            if items:
                connection.execute(sa.insert(OpenItem), items)
            if instances:
                connection.execute(sa.insert(Instance), instances)
                connection.execute(sa.insert(Task), tasks)
            if notes:
                connection.execute(sa.insert(History), notes)
        return ids

    def sql_facts(
        self, calendar: Calendar, computed: Sequence[Computed] = DEBTOR
    ) -> dict[uuid.UUID, dict[str, Any]]:
        query = with_facts(computed, calendar)
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(query)).mappings().all()
        return {
            row["id"]: {f.name: read_value(row[f"fact_{f.name}"], f.type) for f in computed}
            for row in rows
        }

    def python_facts(
        self, calendar: Calendar, computed: Sequence[Computed] = DEBTOR
    ) -> dict[uuid.UUID, dict[str, Any]]:
        with self.engine.connect() as connection:
            subjects = connection.execute(sa.select(Subject.id, Subject.fields)).all()
            return {
                subject_id: load_facts(connection, computed, subject_id, fields, calendar)
                for subject_id, fields in subjects
            }

    def select(
        self, rule: Rule, calendar: Calendar, computed: Sequence[Computed] = DEBTOR
    ) -> set[uuid.UUID]:
        query = select_matching(rule, computed, calendar, self.tenant_id, "debtor")
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def fields(self) -> dict[uuid.UUID, tuple[str, dict[str, Any]]]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(Subject.id, Subject.status, Subject.fields))
            return {subject_id: (status, fields) for subject_id, status, fields in rows}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def facts_store(request: pytest.FixtureRequest) -> Iterator[FactStore]:
    if request.param == "sqlite":
        engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        yield FactStore(engine)
        engine.dispose()
        return
    engine = postgres_engine(POSTGRES_URL)
    schema = f"procedo_test_facts_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(sa.schema.CreateSchema(schema))
    try:
        yield FactStore(engine.execution_options(schema_translate_map={None: schema}))
    finally:
        with engine.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()
