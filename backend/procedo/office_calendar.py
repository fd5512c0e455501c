"""The office's calendar (administrators): its time zone, its country and its own closing days.

Working days (workdays.py) skip weekends, the country's public holidays from the
``holidays`` package and these closing days. A change applies to what is computed
from then on (waits and deadlines set later, ages counted in working days, the next
fact pass); timers already set keep their moment. This process reads the new
calendar at once, the others within a minute (runtime.context caches it).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from functools import cache
from typing import Annotated

import msgspec

from procedo.db import models as m
from procedo.runtime.context import NotFound, Runtime, forget_calendar
from procedo.runtime.steps import history
from procedo.workdays import public_holidays

MAX_CLOSING_DAYS = 400
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


class ClosingDay(msgspec.Struct, forbid_unknown_fields=True):
    date: dt.date
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True):
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
    closing_days: Annotated[list[ClosingDay], msgspec.Meta(max_length=MAX_CLOSING_DAYS)] = []


class Holiday(msgspec.Struct):
    date: dt.date
    name: str


class Country(msgspec.Struct):
    code: str
    name: str


class CalendarOut(msgspec.Struct):
    timezone: str
    country: str
    closing_days: list[ClosingDay]
    # The country's public holidays from today to a year ahead, as working days skip them.
    public_holidays: list[Holiday]
    countries: list[Country]
    timezones: list[str]


class CalendarProblem(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def read(rt: Runtime, tenant_id: uuid.UUID, lang: str) -> CalendarOut:
    with rt.db.read() as session:
        tenant = session.get(m.Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id} does not exist")
        return _out(tenant, rt.clock.now(), lang)


def save(rt: Runtime, tenant_id: uuid.UUID, body: CalendarIn, lang: str, by: str) -> CalendarOut:
    """Store the calendar (all of it or nothing); the change is in the tenant's history."""
    days = _checked(body)
    with rt.transaction() as (session, _out_messages):
        tenant = session.get(m.Tenant, tenant_id, with_for_update=not rt.db.is_sqlite)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id} does not exist")
        before = (tenant.timezone, tenant.country, tenant.closing_days)
        tenant.timezone, tenant.country = body.timezone, body.country.upper()
        tenant.closing_days = [{"date": d.date.isoformat(), "name": d.name.strip()} for d in days]
        changed = [
            name
            for name, old, new in zip(
                ("timezone", "country", "closing_days"),
                before,
                (tenant.timezone, tenant.country, tenant.closing_days),
                strict=True,
            )
            if old != new
        ]
        history(
            session,
            None,
            None,
            tenant_id,
            rt.clock.now(),
            [{"kind": "calendar_changed", "actor": by, "data": {"fields": changed}}],
        )
        session.flush()
        out = _out(tenant, rt.clock.now(), lang)
    forget_calendar(tenant_id)
    return out


def _checked(body: CalendarIn) -> list[ClosingDay]:
    """The closing days sorted by date; a problem names the field at fault."""
    if body.timezone not in _timezones():
        raise CalendarProblem(
            "$.timezone", f"unknown time zone {body.timezone!r}: use a name like Europe/Amsterdam"
        )
    if body.country.upper() not in _countries():
        raise CalendarProblem(
            "$.country",
            f"no public holidays are known for {body.country!r}: use a two-letter country "
            "code such as NL, BE or DE",
        )
    seen: dict[dt.date, int] = {}
    for index, day in enumerate(body.closing_days):
        path = f"$.closing_days[{index}].date"
        if not FIRST_DAY <= day.date <= LAST_DAY:
            raise CalendarProblem(path, f"{day.date} is outside 2000 to 2100")
        if day.date in seen:
            raise CalendarProblem(
                path, f"{day.date} is listed twice (also at {seen[day.date] + 1}): remove one"
            )
        seen[day.date] = index
    return sorted(body.closing_days, key=lambda d: d.date)


def _out(tenant: m.Tenant, now: dt.datetime, lang: str) -> CalendarOut:
    today = now.astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()
    closed = [ClosingDay(dt.date.fromisoformat(d["date"]), d["name"]) for d in tenant.closing_days]
    return CalendarOut(
        timezone=tenant.timezone,
        country=tenant.country,
        closing_days=closed,
        public_holidays=upcoming_holidays(tenant.country, today, lang),
        countries=country_names(lang),
        timezones=sorted(_timezones()),
    )


def upcoming_holidays(country: str, today: dt.date, lang: str) -> list[Holiday]:
    """The country's public holidays from ``today`` to a year ahead, named in ``lang`` where
    the ``holidays`` package has that language (else in the country's own)."""
    import holidays

    end = today + dt.timedelta(days=365)
    kind = public_holidays(country, today.year)
    # Without it the package would name them in the server's locale, not the country's.
    named = _language(lang, kind.supported_languages) or kind.default_language
    found = holidays.country_holidays(
        country, years=range(today.year, end.year + 1), language=named
    )
    return [Holiday(day, name) for day, name in sorted(found.items()) if today <= day <= end]


def _language(lang: str, supported: tuple[str, ...]) -> str | None:
    for code in supported:
        if code == lang or code.split("_")[0] == lang:
            return code
    return None


@cache
def country_names(lang: str) -> list[Country]:
    """Every country with known public holidays, named in ``lang`` (Babel's CLDR names)."""
    from babel import Locale

    territories = Locale.parse(lang).territories
    named = [Country(code, territories.get(code, code)) for code in _countries()]
    return sorted(named, key=lambda c: c.name)


@cache
def _countries() -> frozenset[str]:
    import holidays

    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
