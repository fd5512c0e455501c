"""Escalate: fed from a task's `overdue` port; reminds, reassigns, repeats (E5).

"Remind after 2 business days, reassign to the deputy after 5" is one task due
in 2 business days whose `overdue` port leads here, with ``reassign_after`` 3
business days. The task stays open meanwhile; when it completes (or is moved),
the engine ends its escalation. Several tasks may share one escalate node.
"""

from typing import Annotated

from procedo.durations import Duration, add
from procedo.nodeforms import form
from procedo.nodetypes import (
    Assignee,
    CheckContext,
    Context,
    Decision,
    Effect,
    EscalateTask,
    NodeType,
    ParamProblem,
    Params,
    Signal,
    StartTimer,
    TimerFired,
    check_assignee,
    wait,
)
from procedo.subjects import Labels


class EscalateParams(Params, frozen=True):
    remind: Annotated[
        bool,
        form(
            Labels("Remind the holder", "Houder herinneren", "Inhaber erinnern"),
            Labels(
                "An email to whoever holds the task.",
                "Een e-mail aan wie de taak heeft.",
                "Eine E-Mail an die Person, die die Aufgabe hat.",
            ),
        ),
    ] = True
    repeat_every: Annotated[
        Duration | None,
        form(
            Labels("Remind again every", "Opnieuw herinneren elke", "Erneut erinnern alle"),
        ),
    ] = None
    reassign_to: Annotated[
        Assignee | None,
        form(
            Labels("Reassign to", "Opnieuw toewijzen aan", "Neu zuweisen an"),
            Labels(
                "A role, or one user.",
                "Een rol, of één gebruiker.",
                "Eine Rolle oder ein Benutzer.",
            ),
        ),
    ] = None
    reassign_after: Annotated[
        Duration | None,
        form(
            Labels("Reassign after", "Opnieuw toewijzen na", "Neu zuweisen nach"),
            Labels(
                "Empty: at once.",
                "Leeg: meteen.",
                "Leer: sofort.",
            ),
        ),
    ] = None


def _timer(params: EscalateParams, context: Context, after: Duration, purpose: str) -> StartTimer:
    return StartTimer(
        at=add(context.now, after, context.timezone, context.working_days), purpose=purpose
    )


def _reminder_timer(params: EscalateParams, context: Context) -> list[Effect]:
    if params.repeat_every is None:
        return []
    return [_timer(params, context, params.repeat_every, "repeat")]


def enter(params: EscalateParams, context: Context) -> Decision:
    reassign_now = params.reassign_to if params.reassign_after is None else None
    effects: list[Effect] = [EscalateTask(remind=params.remind, reassign_to=reassign_now)]
    effects += _reminder_timer(params, context)
    if params.reassign_to is not None and params.reassign_after is not None:
        effects.append(_timer(params, context, params.reassign_after, "reassign"))
    if len(effects) == 1:
        return Decision(port=None, effects=tuple(effects))  # nothing left to do later
    return wait(*effects)


def resume(params: EscalateParams, context: Context, signal: Signal) -> Decision:
    if isinstance(signal, TimerFired) and signal.purpose == "repeat":
        return wait(EscalateTask(remind=True), *_reminder_timer(params, context))
    if isinstance(signal, TimerFired) and signal.purpose == "reassign":
        return wait(EscalateTask(remind=False, reassign_to=params.reassign_to))
    return wait()


def check(params: EscalateParams, context: CheckContext) -> list[ParamProblem]:
    problems = []
    if params.reassign_to is not None:
        problems += check_assignee(params.reassign_to, "$.reassign_to")
    elif params.reassign_after is not None:
        problems.append(
            ParamProblem(
                code="escalate.reassign.missing",
                message="'reassign_after' needs 'reassign_to': say who takes the task over",
                path="$.reassign_after",
            )
        )
    if not params.remind and params.reassign_to is None:
        problems.append(
            ParamProblem(
                code="escalate.empty",
                message="choose to remind, to reassign, or both; otherwise delete this node",
            )
        )
    return problems


NODE = NodeType(
    type="escalate",
    labels=Labels(en="Escalate", nl="Escaleren", de="Eskalieren"),
    description=Labels(
        en="When a task is overdue: remind the holder, reassign it, and repeat if needed.",
        nl="Als een taak te laat is: herinner de houder, wijs opnieuw toe, en herhaal zo nodig.",
        de="Bei überfälliger Aufgabe: erinnern, neu zuweisen und bei Bedarf wiederholen.",
    ),
    category="people",
    params=EscalateParams,
    ports=lambda params: [],
    ports_help=Labels(
        "none: runs beside the open task until it completes",
        "geen: loopt naast de open taak tot die klaar is",
        "keiner: läuft neben der offenen Aufgabe, bis sie erledigt ist",
    ),
    enter=enter,
    resume=resume,
    check=check,
    waits=True,
    terminal=True,
    input_ports=frozenset({"overdue"}),
)
