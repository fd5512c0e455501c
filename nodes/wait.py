"""Wait: for a duration, until a date on the subject, for an event, or for a condition.

- duration: "wait 5 days" (business days skip weekends and public holidays)
- until_date: a subject date plus or minus an offset ("due date + 7 days": D.I.P. steps)
- event: until an event arrives ("payment.received"), with an optional timeout port
- condition: until the subject matches a rule, with an optional timeout port; looked at
  again only when the subject changes
- rule: until a rule over the subject's facts holds, following them: looked at again when
  the subject changes (a payment, a status) and woken by the runtime at the moment the
  clock alone can make it true (the day ``oldest_overdue_days >= 15``, in the tenant's
  time zone, in business days where the fact counts them: runtime/fact_waits.py)
"""

import datetime as dt
from typing import Annotated, TypeAlias
from zoneinfo import ZoneInfo

import msgspec

from procedo.durations import Duration, add
from procedo.facts.moving import rule_clock_fields
from procedo.flow.model import EventName
from procedo.nodeforms import form
from procedo.nodetypes import (
    NEXT,
    AwaitCondition,
    AwaitEvent,
    CheckContext,
    Context,
    Decision,
    Effect,
    EventReceived,
    NodeType,
    ParamProblem,
    Params,
    Port,
    Signal,
    StartTimer,
    SubjectChanged,
    TimerFired,
    go,
    wait,
)
from procedo.paths import MISSING, resolve
from procedo.rules.check import check_rule
from procedo.rules.evaluate import evaluate
from procedo.rules.model import FieldPath, Rule
from procedo.subjects import Labels

# A local time of day, HH:MM.
_CLOCK = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
_AT = form(
    Labels("At (time of day)", "Om (tijdstip)", "Um (Uhrzeit)"),
    Labels(
        "HH:MM, the tenant's time.",
        "UU:MM, tijd van de organisatie.",
        "HH:MM, Zeit der Organisation.",
    ),
)
_TIMEOUT = form(
    Labels("Give up after", "Opgeven na", "Aufgeben nach"),
    Labels(
        "Then the flow goes on by 'timed out'; empty waits as long as it takes.",
        "Dan gaat de flow verder via 'verlopen'; leeg wacht zo lang als nodig.",
        "Dann geht der Ablauf über 'Zeit abgelaufen' weiter; leer wartet beliebig lange.",
    ),
)
_WHEN = form(Labels("Until", "Tot", "Bis"))


class _Mode(Params, tag_field="mode", frozen=True):
    pass


class ForDuration(_Mode, tag="duration", frozen=True):
    duration: Annotated[Duration, form(Labels("Duration", "Duur", "Dauer"))]


class UntilDate(_Mode, tag="until_date", frozen=True):
    field: Annotated[
        FieldPath,
        form(
            Labels("Date field", "Datumveld", "Datumsfeld"),
            picker="field_path",
            field_types=("date", "datetime"),
        ),
    ]
    offset: Annotated[
        Duration,
        form(
            Labels("Plus or minus", "Plus of min", "Plus oder minus"),
            Labels(
                "Negative is before the date (due date - 3 days).",
                "Negatief is voor de datum (vervaldatum - 3 dagen).",
                "Negativ ist vor dem Datum (Fälligkeit - 3 Tage).",
            ),
        ),
    ] = Duration(0, "days")
    at: Annotated[_CLOCK, _AT] = "09:00"


class ForEvent(_Mode, tag="event", frozen=True):
    event: Annotated[
        EventName,
        form(
            Labels("Event", "Gebeurtenis", "Ereignis"),
            Labels(
                "Its name, such as payment.received.",
                "De naam, zoals payment.received.",
                "Sein Name, etwa payment.received.",
            ),
            picker="event",
        ),
    ]
    timeout: Annotated[Duration | None, _TIMEOUT] = None


class UntilCondition(_Mode, tag="condition", frozen=True):
    when: Annotated[Rule, _WHEN]
    timeout: Annotated[Duration | None, _TIMEOUT] = None


class UntilRule(_Mode, tag="rule", frozen=True):
    when: Annotated[Rule, _WHEN]
    # The local time of the wake-up on the day the clock makes the rule true.
    at: Annotated[_CLOCK, _AT] = "00:00"
    timeout: Annotated[Duration | None, _TIMEOUT] = None


# The timer the runtime sets for a rule wait: the rule is evaluated again when it fires.
RECHECK = "recheck"

Mode: TypeAlias = ForDuration | UntilDate | ForEvent | UntilCondition | UntilRule


class WaitParams(Params, frozen=True):
    until: Annotated[
        Mode,
        form(
            Labels("Wait", "Wachten", "Warten"),
            options=(
                ("duration", Labels("For a while", "Een tijd", "Eine Weile")),
                (
                    "until_date",
                    Labels(
                        "Until a date of the subject",
                        "Tot een datum van het onderwerp",
                        "Bis zu einem Datum des Objekts",
                    ),
                ),
                ("event", Labels("For an event", "Op een gebeurtenis", "Auf ein Ereignis")),
                (
                    "condition",
                    Labels(
                        "Until a condition holds",
                        "Tot een voorwaarde klopt",
                        "Bis eine Bedingung gilt",
                    ),
                ),
                (
                    "rule",
                    Labels(
                        "Until a rule over facts holds",
                        "Tot een regel over feiten klopt",
                        "Bis eine Regel über Fakten gilt",
                    ),
                ),
            ),
        ),
    ]


TIMEOUT = Port("timeout", Labels(en="Timed out", nl="Verlopen", de="Zeit abgelaufen"))


def ports(params: WaitParams) -> list[Port]:
    mode = params.until
    has_timeout = (
        isinstance(mode, ForEvent | UntilCondition | UntilRule) and mode.timeout is not None
    )
    return [NEXT, TIMEOUT] if has_timeout else [NEXT]


class WaitError(ValueError):
    pass


def _date_of(value: object, path: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise WaitError(f"{path} holds {value!r}, not a date; fill in the subject's date")


def _deadline(mode: UntilDate, context: Context) -> dt.datetime:
    value = resolve(context.subject, context.variables, mode.field)
    if value is MISSING or value is None:
        raise WaitError(f"{mode.field} is empty, so there is no date to wait for")
    hour, minute = (int(part) for part in mode.at.split(":"))
    day = _date_of(value, mode.field)
    start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(context.timezone))
    return add(start, mode.offset, context.timezone, context.working_days)


def enter(params: WaitParams, context: Context) -> Decision:
    mode = params.until
    if isinstance(mode, ForDuration):
        at = add(context.now, mode.duration, context.timezone, context.working_days)
        return wait(StartTimer(at=at, purpose="wake"))
    if isinstance(mode, UntilDate):
        at = _deadline(mode, context)
        return go("next") if at <= context.now else wait(StartTimer(at=at, purpose="wake"))
    timeout: tuple[Effect, ...] = ()
    if mode.timeout is not None:
        at = add(context.now, mode.timeout, context.timezone, context.working_days)
        timeout = (StartTimer(at=at, purpose="timeout"),)
    if isinstance(mode, ForEvent):
        return wait(AwaitEvent(mode.event), *timeout)
    # condition and rule: the runtime sets a rule's wake-up timer (it knows the facts).
    if evaluate(mode.when, context.subject, context.variables):
        return go("next")
    return wait(AwaitCondition(mode.when), *timeout)


def resume(params: WaitParams, context: Context, signal: Signal) -> Decision:
    mode = params.until
    if isinstance(mode, UntilRule) and not (
        isinstance(signal, TimerFired) and signal.purpose == "timeout"
    ):
        # A subject change, an event or the wake-up timer: the facts may hold now.
        return go("next") if evaluate(mode.when, context.subject, context.variables) else wait()
    if isinstance(signal, TimerFired):
        return go("timeout" if signal.purpose == "timeout" else "next")
    if isinstance(mode, ForEvent) and isinstance(signal, EventReceived):
        return go("next") if signal.event == mode.event else wait()
    if isinstance(mode, UntilCondition) and isinstance(signal, SubjectChanged | EventReceived):
        return go("next") if evaluate(mode.when, context.subject, context.variables) else wait()
    return wait()


def check(params: WaitParams, context: CheckContext) -> list[ParamProblem]:
    mode = params.until
    if isinstance(mode, UntilCondition):
        return check_rule(mode.when, context.subject_type, "$.until.when")
    if isinstance(mode, UntilRule):
        return _check_rule_mode(mode, context)
    if isinstance(mode, UntilDate) and context.subject_type is not None:
        namespace, _, name = mode.field.partition(".")
        field = context.subject_type.field(name) if namespace == "subject" else None
        if namespace == "subject" and (field is None or field.type not in ("date", "datetime")):
            return [
                ParamProblem(
                    code="wait.field.invalid",
                    message=f"{mode.field} is not a date field of '{context.subject_type.name}'; "
                    "pick a date field such as the due date",
                    path="$.until.field",
                )
            ]
    return []


def _check_rule_mode(mode: UntilRule, context: CheckContext) -> list[ParamProblem]:
    problems = check_rule(mode.when, context.subject_type, "$.until.when")
    if problems or context.subject_type is None:
        return problems
    if not rule_clock_fields(mode.when, context.subject_type):
        # Nothing the rule names moves with the clock: no wake-up can be computed, and a
        # reader of the flow would expect one. Mode 'condition' says what it does.
        return [
            ParamProblem(
                code="wait.rule.no_clock",
                message="the rule names no fact that changes with time (such as "
                "oldest_overdue_days), so no wake-up moment can be computed and it would "
                "only be looked at when the subject changes; use mode 'condition' for that",
                path="$.until.when",
            )
        ]
    return []


NODE = NodeType(
    type="wait",
    labels=Labels(en="Wait", nl="Wachten", de="Warten"),
    description=Labels(
        en="Waits for a time, a date on the subject, an event, a condition, or until a "
        "rule over the subject's facts holds (woken the day it does).",
        nl="Wacht op een termijn, een datum van het onderwerp, een gebeurtenis, een "
        "voorwaarde, of tot een regel over de feiten van het onderwerp geldt.",
        de="Wartet auf eine Frist, ein Datum des Objekts, ein Ereignis, eine Bedingung "
        "oder bis eine Regel über die Fakten des Objekts gilt.",
    ),
    category="time",
    params=WaitParams,
    ports=ports,
    ports_help=Labels(
        "next, plus timeout when a timeout is set (event, condition, rule)",
        "volgende, plus verlopen als er een termijn is (gebeurtenis, voorwaarde, regel)",
        "weiter, plus Zeit abgelaufen bei einer Frist (Ereignis, Bedingung, Regel)",
    ),
    enter=enter,
    resume=resume,
    check=check,
    waits=True,
    example={"until": {"mode": "duration", "duration": {"amount": 5, "unit": "days"}}},
)
