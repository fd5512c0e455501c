"""What every runtime operation needs: the database, a clock, a dispatcher, caches.

Operations run in one transaction and collect the messages to send; the
messages leave only after the commit (a message about a row that was rolled
back would wake a worker for nothing, or worse).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.clock import Clock, SystemClock
from procedo.db import models as m
from procedo.db.session import Database
from procedo.engine import Compiled
from procedo.flow.codec import decode_flow
from procedo.flow.validate import check_flow
from procedo.ids import new_id
from procedo.registry import Registry, default_registry
from procedo.subjects import SubjectType, builtin_subject_types
from procedo.workdays import WorkingDays

MessageKind = Literal["advance", "timer", "event", "outbox"]


class Dispatcher(Protocol):
    """Carries ids to workers: dramatiq in production, in-process for tests and `run`.

    One message carries a batch of ids of one kind; a worker handles a batch of
    starts or timers in one transaction (one commit for the batch).
    """

    def send(self, kind: MessageKind, idents: Sequence[uuid.UUID]) -> None: ...


BATCH = 50


def send_batched(dispatcher: Dispatcher, messages: Sequence[tuple[MessageKind, uuid.UUID]]) -> None:
    """Group ids by kind, in order, into messages of at most BATCH ids."""
    by_kind: dict[MessageKind, list[uuid.UUID]] = {}
    for kind, ident in messages:
        by_kind.setdefault(kind, []).append(ident)
    for kind, idents in by_kind.items():
        for start in range(0, len(idents), BATCH):
            dispatcher.send(kind, idents[start : start + BATCH])


class NotFound(LookupError):
    pass


class Refusal(ValueError):
    """A request the current state does not allow; a person can act on the message."""


@dataclass
class Outgoing:
    messages: list[tuple[MessageKind, uuid.UUID]] = field(default_factory=list)

    def add(self, kind: MessageKind, ident: uuid.UUID) -> None:
        self.messages.append((kind, ident))


@dataclass
class Runtime:
    db: Database
    dispatcher: Dispatcher
    clock: Clock = field(default_factory=SystemClock)
    registry: Registry = field(default_factory=default_registry)
    new_id: Callable[[], str] = field(default=lambda: str(new_id()))

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Outgoing]]:
        from procedo.runtime.buffer import buffer

        outgoing = Outgoing()
        with self.db.transaction() as session:
            yield session, outgoing
            buffer(session).flush(session)
        send_batched(self.dispatcher, outgoing.messages)

    def tenant_calendar(self, session: Session, tenant_id: uuid.UUID) -> tuple[str, WorkingDays]:
        """The tenant's time zone and working days; cached for a minute (they rarely change)."""
        now = time.monotonic()
        cached = _CALENDARS.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        tenant = session.get(m.Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id} does not exist")
        calendar = (tenant.timezone, working_days_of(tenant))
        _CALENDARS[tenant_id] = (now + 60.0, calendar)
        return calendar

    def subject_types(self, session: Session, tenant_id: uuid.UUID) -> dict[str, SubjectType]:
        return tenant_subject_types(session, tenant_id)

    def compiled(self, session: Session, version_id: uuid.UUID) -> Compiled:
        """The checked flow of a published version; versions are immutable, so cached."""
        compiled = _COMPILED.get(version_id)
        if compiled is not None:
            return compiled
        version = session.get(m.FlowVersion, version_id)
        if version is None:
            raise NotFound(f"flow version {version_id} does not exist")
        checked = check_flow(
            decode_flow(version.document),
            self.registry,
            self.subject_types(session, version.tenant_id),
        )
        if len(_COMPILED) >= 2000:
            _COMPILED.clear()
        compiled = _COMPILED[version_id] = Compiled(checked)
        return compiled


# Published versions never change, so their compiled form is shared by all runtimes.
_COMPILED: dict[uuid.UUID, Compiled] = {}
_CALENDARS: dict[uuid.UUID, tuple[float, tuple[str, WorkingDays]]] = {}


def working_days_of(tenant: m.Tenant) -> WorkingDays:
    closed = frozenset(dt.date.fromisoformat(day["date"]) for day in tenant.closing_days)
    return WorkingDays(tenant.country, closed)


def forget_calendar(tenant_id: uuid.UUID) -> None:
    """After a change, this process reads the tenant's calendar again (others within a minute)."""
    _CALENDARS.pop(tenant_id, None)


def tenant_subject_types(session: Session, tenant_id: uuid.UUID) -> dict[str, SubjectType]:
    """The built-in subject types and the tenant's own (which may replace one)."""
    found = builtin_subject_types()
    rows = session.scalars(
        sa.select(m.SubjectTypeRow).where(m.SubjectTypeRow.tenant_id == tenant_id)
    )
    for row in rows:
        subject_type = msgspec.convert(row.definition, SubjectType)
        found[subject_type.name] = subject_type
    return found
