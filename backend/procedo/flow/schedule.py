"""Checks a schedule trigger for what would otherwise fail only when it runs.

A scheduled flow runs unattended: its time zone is read at every beat and its
filter becomes one SQL query (rules/sql.py). Either failing there would fail
every run, so both are proven when the flow is saved.
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo

from procedo.flow.model import ScheduleTrigger
from procedo.flow.problems import Problem

FILTER_PATH = "$.trigger.filter"


@functools.cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names ZoneInfo can load here (the system's database or tzdata).

    "localtime" is whatever the server is set to, not a place: a flow must name one.
    """
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def timezone_problem(name: str, path: str) -> Problem | None:
    if name in known_timezones():
        return None
    close = difflib.get_close_matches(name, sorted(known_timezones()), n=1)
    hint = f"did you mean '{close[0]}'?" if close else "use an IANA name such as Europe/Amsterdam"
    return Problem(
        code="trigger.timezone.unknown",
        message=f"unknown time zone '{name}'; {hint}",
        path=path,
    )


def day_problems(trigger: ScheduleTrigger) -> list[Problem]:
    """The day fits the interval (D1): none for daily, a weekday or a day of the month.

    The rule engine would read a daily schedule with a weekday as weekly, and a weekday
    with a day of the month as the days that are both: never what was meant.
    """
    if trigger.every == "day" and (trigger.weekday or trigger.day_of_month):
        field = "weekday" if trigger.weekday else "day_of_month"
        return [
            Problem(
                code="trigger.day.daily",
                message="a daily schedule runs every day: remove the day, or run it every week",
                path=f"$.trigger.{field}",
            )
        ]
    if trigger.day_of_month is not None and (trigger.weekday or trigger.every == "week"):
        return [
            Problem(
                code="trigger.day.conflict",
                message="choose a weekday (every week) or a day of the month (every month),"
                " not both",
                path="$.trigger.day_of_month",
            )
        ]
    return []


def schedule_problems(trigger: ScheduleTrigger, filter_checked: bool) -> list[Problem]:
    """The time zone exists; the filter (if ``filter_checked``: it has no rule problems) is SQL."""
    problems = day_problems(trigger)
    if trigger.timezone is not None:
        problem = timezone_problem(trigger.timezone, "$.trigger.timezone")
        if problem is not None:
            problems.append(problem)
    if trigger.filter is not None and filter_checked:
        # Imported here: SQLAlchemy and the models cost a second to import, which
        # `procedo validate` on flows without a schedule need not pay.
        from procedo.rules.sql import sql_problems

        problems.extend(
            Problem(
                code=p.code,
                message=f"{p.message} (a schedule's filter selects its subjects in one query)",
                path=p.path,
            )
            for p in sql_problems(trigger.filter, FILTER_PATH)
        )
    return problems
