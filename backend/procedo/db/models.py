"""The database is the truth: every row Procedo keeps, as typed SQLAlchemy models.

Every table carries ``tenant_id`` and every query filters on it. Instances,
tokens (waiting positions), tasks, timers, queued messages and events are rows;
the broker only carries their ids. Runs unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from procedo.ids import new_id

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """Stored in UTC and read back aware: SQLite keeps no offset, so we never store local time."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self, timezone: bool = True) -> None:
        super().__init__(timezone=timezone)

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Procedo stores only aware datetimes")
        return value.astimezone(dt.UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Any:
        if dialect.name == "postgresql":
            # psycopg already reads timestamptz as aware UTC datetimes: every connection's
            # time zone is UTC (db/session.py). Lists read hundreds per request.
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = value
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        dt.datetime: UtcDateTime(),
    }
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(sa.Uuid, primary_key=True, default=new_id)


def _tenant(indexed: bool = True) -> Mapped[uuid.UUID]:
    """The owning tenant. ``indexed=False`` where a composite index leading with tenant_id
    serves every by-tenant lookup, or none is made: each index costs every insert."""
    return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=indexed)


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Amsterdam")
    country: Mapped[str] = mapped_column(sa.String(2), default="NL")
    # The office's own days off beside its country's public holidays: [{date, name}].
    closing_days: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    # SMTP host, port, user, password, sender, TLS: each tenant sends as itself.
    smtp: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "email"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    # admin, designer, member or partner (see docs/security.md once the API lands).
    access: Mapped[str] = mapped_column(sa.String(16), default="member")
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    name: Mapped[str] = mapped_column(sa.String(100))
    label: Mapped[str] = mapped_column(sa.String(200), default="")


class RoleMember(Base):
    """A user in a role, tenant-wide (subject_id NULL) or for one subject (K1)."""

    __tablename__ = "role_members"
    __table_args__ = (
        sa.UniqueConstraint("role_id", "user_id", "subject_id"),
        sa.Index("ix_role_members_lookup", "tenant_id", "role_id", "subject_id"),
    )
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    role_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("roles.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="CASCADE")
    )


class SubjectTypeRow(Base):
    """A tenant's own subject type; the built-in ones need no row."""

    __tablename__ = "subject_types"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    name: Mapped[str] = mapped_column(sa.String(64))
    definition: Mapped[dict[str, Any]]


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "type", "key"),
        sa.Index("ix_subjects_tenant_type_status", "tenant_id", "type", "status"),
    )
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant(indexed=False)
    type: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(64), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Flow(Base):
    """A flow being designed: its draft, plus the published versions below."""

    __tablename__ = "flows"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    # The draft as canonical flow JSON; None once published and not edited since.
    draft: Mapped[str | None] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowVersion(Base):
    """An immutable published flow; instances are pinned to one."""

    __tablename__ = "flow_versions"
    __table_args__ = (sa.UniqueConstraint("flow_id", "number"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    flow_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("flows.id", ondelete="CASCADE"))
    number: Mapped[int]
    document: Mapped[str] = mapped_column(sa.Text)
    # Denormalised from the document so events and schedules find flows by query.
    subject_type: Mapped[str] = mapped_column(sa.String(64))
    trigger_kind: Mapped[str] = mapped_column(sa.String(16))
    trigger_event: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    published_by: Mapped[str] = mapped_column(sa.String(254), default="")
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (
        # The instance list: newest first, by status or all (see api/resources/instances.py).
        sa.Index("ix_instances_tenant_status_started", "tenant_id", "status", "started_at", "id"),
        sa.Index("ix_instances_tenant_started", "tenant_id", "started_at", "id"),
        sa.Index("ix_instances_subject", "subject_id"),
        sa.Index("ix_instances_version_status", "flow_version_id", "status"),
    )
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant(indexed=False)
    flow_version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("flow_versions.id"))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    # pending (not started yet), running, completed, cancelled, failed
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    # Compare-and-set counter: every step writes version + 1 where version matches.
    version: Mapped[int] = mapped_column(default=0)
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The event whose step failed, kept so that `retry` can run it again.
    failed_event: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_by: Mapped[str] = mapped_column(sa.String(254), default="")
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]


class Token(Base):
    """A position where an instance waits: at a task, a wait, a join or an escalation."""

    __tablename__ = "tokens"
    __table_args__ = (sa.Index("ix_tokens_event", "tenant_id", "await_event"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = _tenant(indexed=False)
    instance_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    node_id: Mapped[str] = mapped_column(sa.String(64))
    # The task token whose `overdue` port spawned this one; it ends with its origin.
    origin_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    await_event: Mapped[str | None] = mapped_column(sa.String(100))
    await_condition: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    arrived: Mapped[int] = mapped_column(default=1)
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # The inbox: most urgent first (the roles' and everyone's; "mine" by assignee).
        sa.Index("ix_tasks_tenant_status_due", "tenant_id", "status", "due_at"),
        sa.Index("ix_tasks_tenant_assignee", "tenant_id", "assignee", "status", "due_at"),
        sa.Index("ix_tasks_instance", "instance_id"),
    )
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant(indexed=False)
    instance_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("instances.id", ondelete="CASCADE")
    )
    token_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    node_id: Mapped[str] = mapped_column(sa.String(64))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    title: Mapped[str] = mapped_column(sa.String(500))
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    role: Mapped[str | None] = mapped_column(sa.String(100))
    assignee: Mapped[str | None] = mapped_column(sa.String(254))
    outcomes: Mapped[list[Any]] = mapped_column(default=list)
    checkpoints: Mapped[list[Any]] = mapped_column(default=list)
    # general, phone_call, lawyer_handover, approval (assign_role's task type; D2, D4)
    kind: Mapped[str] = mapped_column(sa.String(32), default="general")
    # open, completed, cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(sa.String(64))
    ticked: Mapped[list[Any]] = mapped_column(default=list)
    # Who ticked each checkpoint and when, by checkpoint id ({"by": ..., "at": ...}).
    ticks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    completed_by: Mapped[str | None] = mapped_column(sa.String(254))
    due_at: Mapped[dt.datetime | None]
    reminders: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]


class TaskCandidate(Base):
    """Who may take a task: the role's members for the subject, resolved when it opens."""

    __tablename__ = "task_candidates"
    __table_args__ = (
        # "My roles' inbox" is one range of this index, most urgent first: reading it costs
        # a page, however many tasks the tenant has and however few of them are one's own.
        sa.Index(
            "ix_task_candidates_offers",
            "tenant_id",
            "user_email",
            "due_at",
            "created_at",
            "task_id",
            postgresql_where=sa.text("offered"),
            sqlite_where=sa.text("offered"),
        ),
    )
    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    user_email: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = _tenant(indexed=False)
    # While the task is open and nobody has taken it; with the task's due and created
    # moments copied (they do not change), so the inbox needs no sort over the tasks.
    offered: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (sa.Index("ix_timers_due", "status", "due_at"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    instance_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    token_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    purpose: Mapped[str] = mapped_column(sa.String(32))
    due_at: Mapped[dt.datetime]
    # pending, enqueued (claimed by a scheduler), fired, cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    claimed_at: Mapped[dt.datetime | None]


class Outbox(Base):
    """An email or letter leaving Procedo, written in the same transaction as its step."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        # The outbox page: a tenant's messages, newest first.
        sa.Index("ix_outbox_tenant_created", "tenant_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("instances.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))  # email, letter, sms
    # Deterministic, so a retry after a crash can be recognised by the receiver.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    template: Mapped[str] = mapped_column(sa.String(64), default="")
    # Letters: the library template they are drawn from, in the debtor's language.
    text_template: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    # pending, enqueued, sent, failed, ready (letters wait for print)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # Letters: the print batch it went out in, and its PDF once drawn (db/letters.py).
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("print_batches.id", ondelete="SET NULL"), index=True
    )
    document: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    # Emails: the open item whose invoice document goes along (messaging/attachments.py).
    attach_item: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    # Whom the message is about: the portal or client-page link it carries is minted for
    # this subject as it leaves (also for a message of no run). No foreign key: a message
    # of a deleted subject keeps its row, its link stays a placeholder.
    subject_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class Event(Base):
    """Something that happened to a subject; dispatched to flows after commit."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_pending", "status", "created_at"),)
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending, done
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None]


class History(Base):
    """Append-only: who did what, when, from which node to which, and why."""

    __tablename__ = "history"
    __table_args__ = (
        sa.Index("ix_history_instance", "instance_id", "seq"),
        sa.Index("ix_history_subject", "subject_id", "seq"),
        # The rows a node marked (a dunning notice, a call), for set-based selection on
        # counts of them (facts/shortcuts.py); other rows, nearly all, are not in it.
        sa.Index(
            "ix_history_marked",
            "kind",
            "subject_id",
            postgresql_where=sa.text("(data ->> 'mark') IS NOT NULL"),
            # On PostgreSQL a filter's workflow-only and mark tests read the index alone.
            postgresql_include=["instance_id", "data"],
            sqlite_where=sa.text("json_extract(data, '$.mark') IS NOT NULL"),
        ),
    )
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant(indexed=False)
    instance_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(254), default="system")
    kind: Mapped[str] = mapped_column(sa.String(32))
    node_id: Mapped[str | None] = mapped_column(sa.String(64))
    to_node_id: Mapped[str | None] = mapped_column(sa.String(64))
    port: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FlowSchedule(Base):
    """When a scheduled flow version runs next."""

    __tablename__ = "flow_schedules"
    flow_version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("flow_versions.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = _tenant()
    next_run_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_run_at: Mapped[dt.datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    # A failed run, shown to the tenant; the next try waits longer after each failure
    # in a row (runtime/schedules.py). Cleared by a run that succeeds.
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    last_error_at: Mapped[dt.datetime | None]
    # The last run: how many subjects its filter selected, and how many it started
    # (the rest still had an open instance of the flow). Migration 0015.
    last_selected: Mapped[int | None]
    last_started: Mapped[int | None]
    # The tenant's priority order of its scheduled flows (D5, migration 0017): flows due
    # in the same slot run in it, lowest first; kept across republishing.
    position: Mapped[int] = mapped_column(default=0, server_default="0")


class ApiToken(Base):
    """A bearer token for integrations: only its SHA-256 is kept, so a leaked table leaks none."""

    __tablename__ = "api_tokens"
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Every token ends (api/accounts.py: TOKEN_DAYS); a password change revokes them all.
    expires_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class UserSession(Base):
    """A login from the designer: the cookie's SHA-256 and the CSRF value it must come with."""

    __tablename__ = "user_sessions"
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csrf: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class LoginFailure(Base):
    """A failed login (or current-password check), counted by every API process alike.

    Keyed by the SHA-256 of an account (tenant + email) or client address, so the
    table names nobody; no tenant_id and no row-level security: it is read before
    any tenant is known (api/throttle.py). Rows older than the window are pruned.
    """

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_key", "key_hash", "failed_at"),)
    id: Mapped[uuid.UUID] = _id()
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[dt.datetime] = mapped_column(index=True)


class Partnership(Base):
    """A grant: the partner tenant may set these statuses on instances of these flows (E7)."""

    __tablename__ = "partnerships"
    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant()
    partner_tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    flows: Mapped[list[Any]] = mapped_column(default=list)
    # [{"status": "paid", "from": ["payable"]}]: what it may set, from which subject states.
    statuses: Mapped[list[Any]] = mapped_column(default=list)
    # The subject fields (dotted paths) the partner sees; no others (migration 0008).
    fields: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
