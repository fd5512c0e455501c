"""Setting a tenant up: users, roles and members, subjects, published flow versions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from dateutil import rrule
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.flow.codec import decode_flow, encode_flow
from procedo.flow.model import EventTrigger, ScheduleTrigger
from procedo.flow.problems import FlowError
from procedo.flow.validate import check_flow
from procedo.messaging.library import add_standard_templates, tenant_flow_problems
from procedo.runtime.buffer import to_json
from procedo.runtime.context import NotFound, Runtime
from procedo.runtime.steps import anyone_listens, raise_subject_event


def create_tenant(
    rt: Runtime, name: str, slug: str, timezone: str = "Europe/Amsterdam", country: str = "NL"
) -> m.Tenant:
    with rt.transaction() as (session, _out):
        tenant = m.Tenant(name=name, slug=slug, timezone=timezone, country=country)
        session.add(tenant)
        session.flush()
        add_standard_templates(session, tenant.id, rt.clock.now())
        return tenant


def add_user(
    rt: Runtime, tenant_id: uuid.UUID, email: str, name: str = "", access: str = "member"
) -> m.User:
    with rt.transaction() as (session, _out):
        user = m.User(tenant_id=tenant_id, email=email, name=name, access=access)
        session.add(user)
        session.flush()
        return user


def add_member(
    rt: Runtime,
    tenant_id: uuid.UUID,
    role: str,
    email: str,
    subject_id: uuid.UUID | None = None,
) -> None:
    """Put a user in a role, tenant-wide or for one subject; creates the role if new."""
    with rt.transaction() as (session, _out):
        role_row = session.scalar(
            sa.select(m.Role).where(m.Role.tenant_id == tenant_id, m.Role.name == role)
        )
        if role_row is None:
            role_row = m.Role(tenant_id=tenant_id, name=role, label=role)
            session.add(role_row)
            session.flush()
        user = session.scalar(
            sa.select(m.User).where(m.User.tenant_id == tenant_id, m.User.email == email)
        )
        if user is None:
            raise NotFound(f"no user {email} in this tenant")
        session.add(
            m.RoleMember(
                tenant_id=tenant_id, role_id=role_row.id, user_id=user.id, subject_id=subject_id
            )
        )


def upsert_subject(
    rt: Runtime,
    tenant_id: uuid.UUID,
    type_name: str,
    key: str,
    fields: dict[str, Any],
    status: str | None = None,
    created_event: tuple[str, dict[str, Any]] | None = None,
) -> m.Subject:
    """Create a subject or replace its fields; a change wakes the flows watching it.

    ``created_event`` (name, data) is posted in the same transaction when the
    subject is new, so a stored invoice always has its ``invoice.received``.
    """
    with rt.transaction() as (session, out):
        subject = session.scalar(
            sa.select(m.Subject).where(
                m.Subject.tenant_id == tenant_id, m.Subject.type == type_name, m.Subject.key == key
            )
        )
        now = rt.clock.now()
        fields = to_json(fields)
        if subject is None:
            subject = m.Subject(
                tenant_id=tenant_id,
                type=type_name,
                key=key,
                fields=fields,
                status=status or "",
                created_at=now,
                updated_at=now,
            )
            session.add(subject)
            session.flush()
            if created_event is not None:
                name, data = created_event
                event = m.Event(
                    tenant_id=tenant_id, subject_id=subject.id, name=name, data=data, created_at=now
                )
                session.add(event)
                session.flush()
                out.add("event", event.id)
            return subject
        old_status = subject.status
        if subject.fields == fields and (status is None or status == old_status):
            return subject
        subject.fields = fields
        subject.status = status if status is not None else subject.status
        subject.version += 1
        subject.updated_at = now
        session.flush()
        if anyone_listens(session, subject):
            raise_subject_event(session, out, subject, old_status, now)
        return subject


def publish(rt: Runtime, tenant_id: uuid.UUID, document: bytes | str, by: str) -> m.FlowVersion:
    """Validate a flow and store it as the next immutable version of its key."""
    flow = decode_flow(document)
    with rt.transaction() as (session, _out):
        known = rt.subject_types(session, tenant_id)
        checked = check_flow(flow, rt.registry, known)
        # Email nodes that name a template of the tenant's library: it exists and fits.
        problems = checked.problems + tenant_flow_problems(session, tenant_id, flow, known)
        if problems:
            raise FlowError(problems)
        row = session.scalar(
            sa.select(m.Flow).where(m.Flow.tenant_id == tenant_id, m.Flow.key == flow.key)
        )
        if row is None:
            row = m.Flow(tenant_id=tenant_id, key=flow.key, name=flow.name, updated_by=by)
            session.add(row)
            session.flush()
        row.name, row.draft, row.updated_by = flow.name, None, by
        number = (
            session.scalar(
                sa.select(sa.func.max(m.FlowVersion.number)).where(m.FlowVersion.flow_id == row.id)
            )
            or 0
        ) + 1
        session.execute(
            sa.update(m.FlowVersion).where(m.FlowVersion.flow_id == row.id).values(active=False)
        )
        trigger = flow.trigger
        version = m.FlowVersion(
            tenant_id=tenant_id,
            flow_id=row.id,
            number=number,
            document=encode_flow(flow).decode(),
            subject_type=flow.subject_type,
            trigger_kind=str(trigger.__struct_config__.tag),
            trigger_event=trigger.event if isinstance(trigger, EventTrigger) else None,
            published_by=by,
            published_at=rt.clock.now(),
        )
        session.add(version)
        session.flush()
        if isinstance(trigger, ScheduleTrigger):
            tenant = session.get(m.Tenant, tenant_id)
            assert tenant is not None
            now = rt.clock.now()
            # An administrator's pause (or resume) outlives republishing; the last run
            # stays in the list. A new flow's schedule is active at once.
            before = previous_schedule(session, row.id, version.id)
            session.add(
                m.FlowSchedule(
                    flow_version_id=version.id,
                    tenant_id=tenant_id,
                    next_run_at=next_run(trigger, now, tenant.timezone, anchor=now),
                    active=before.active if before is not None else True,
                    last_run_at=before.last_run_at if before is not None else None,
                    last_selected=before.last_selected if before is not None else None,
                    last_started=before.last_started if before is not None else None,
                    # Its place in the tenant's priority order (D5): kept, or last if new.
                    position=before.position
                    if before is not None
                    else last_position(session, tenant_id) + 1,
                )
            )
        return version


def last_position(session: Session, tenant_id: uuid.UUID) -> int:
    """The highest place in the tenant's priority order of scheduled flows (0: none yet)."""
    highest = session.scalar(
        sa.select(sa.func.max(m.FlowSchedule.position)).where(m.FlowSchedule.tenant_id == tenant_id)
    )
    return int(highest or 0)


def previous_schedule(
    session: Session, flow_id: uuid.UUID, version_id: uuid.UUID
) -> m.FlowSchedule | None:
    """The schedule of the flow's newest earlier version that had one."""
    return session.scalars(
        sa.select(m.FlowSchedule)
        .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
        .where(m.FlowVersion.flow_id == flow_id, m.FlowVersion.id != version_id)
        .order_by(m.FlowVersion.number.desc())
        .limit(1)
    ).first()


_WEEKDAYS = {
    "monday": rrule.MO,
    "tuesday": rrule.TU,
    "wednesday": rrule.WE,
    "thursday": rrule.TH,
    "friday": rrule.FR,
    "saturday": rrule.SA,
    "sunday": rrule.SU,
}
_FREQUENCIES: dict[str, tuple[Any, int]] = {
    "day": (rrule.DAILY, 1),
    "week": (rrule.WEEKLY, 1),
    "month": (rrule.MONTHLY, 1),
    "quarter": (rrule.MONTHLY, 3),
    "year": (rrule.YEARLY, 1),
}


def next_run(
    trigger: ScheduleTrigger,
    after: dt.datetime,
    timezone: str,
    anchor: dt.datetime | None = None,
) -> dt.datetime:
    """The first run of a schedule after ``after`` (RFC 5545 rules via dateutil).

    Local wall-clock times in the trigger's (else the tenant's) zone, so 16:00 stays
    16:00 across DST. The rhythm counts from the schedule's first slot: the first
    matching slot after ``anchor`` (publishing; ``starts_on`` if later), so an
    every-2-weeks Tuesday flow published on a Thursday first runs the coming Tuesday,
    then every second Tuesday from there.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(trigger.timezone or timezone)
    hour, minute = (int(part) for part in trigger.at.split(":"))
    frequency, multiple = _FREQUENCIES[trigger.every]
    local_after = after.astimezone(zone).replace(tzinfo=None)
    begin = (anchor or after).astimezone(zone).replace(tzinfo=None)
    if trigger.starts_on is not None:
        begin = max(begin, dt.datetime.combine(trigger.starts_on, dt.time()) - _JUST_BEFORE)

    def rule(interval: int, dtstart: dt.datetime, every: Any = frequency) -> rrule.rrule:
        return rrule.rrule(
            every,
            interval=interval,
            dtstart=dtstart,
            # A yearly day of the month is in one month a year: the first slot's.
            bymonth=dtstart.month if every == rrule.YEARLY and trigger.day_of_month else None,
            byweekday=_WEEKDAYS[trigger.weekday] if trigger.weekday else None,
            bymonthday=trigger.day_of_month,
            byhour=hour,
            byminute=minute,
            bysecond=0,
        )

    # Every slot of the rhythm's shape (interval 1) from the anchor's day on: the first
    # one after the anchor starts the count of ``interval``. Quarters are the calendar's
    # (January, April, July, October), as VAT quarters are; a yearly day of the month
    # first comes in the next month that has it.
    start = dt.datetime.combine(begin.date(), dt.time(hour, minute))
    shape = frequency
    if trigger.every == "quarter":
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1, day=1)
    elif trigger.every == "year" and trigger.day_of_month:
        shape, multiple = rrule.MONTHLY, 1
    first = rule(multiple, start, shape).after(begin)
    if first is None:
        raise ValueError("the schedule has no future run")
    upcoming = rule(trigger.interval * multiple, first).after(local_after)
    if upcoming is None:
        raise ValueError("the schedule has no future run")
    return upcoming.replace(tzinfo=zone).astimezone(dt.UTC)


_JUST_BEFORE = dt.timedelta(microseconds=1)
