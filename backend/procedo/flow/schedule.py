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


def schedule_problems(trigger: ScheduleTrigger, filter_checked: bool) -> list[Problem]:
    """The time zone exists; the filter (if ``filter_checked``: it has no rule problems) is SQL."""
    problems: list[Problem] = []
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
