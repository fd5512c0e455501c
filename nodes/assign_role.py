"""Assign role: a human task for a role or a user; the instance waits for an outcome.

Each outcome is a port (approve, reject, ...). Checkpoints are ticked by the
person doing the task; mandatory ones must be ticked before it can complete
(K2). With a due duration, the `overdue` port fires when it passes, while the
task stays open, so an `escalate` node can remind and reassign (E5).
"""

from typing import Annotated, Literal

import msgspec

from procedo.durations import Duration, add
from procedo.nodeforms import form
from procedo.nodetypes import (
    Assignee,
    CheckContext,
    Context,
    Decision,
    NodeType,
    OpenTask,
    ParamProblem,
    Params,
    Port,
    Refused,
    Signal,
    StartTimer,
    TaskCheckpoint,
    TaskCompleted,
    TaskOutcome,
    TimerFired,
    check_assignee,
    go,
    wait,
)
from procedo.subjects import Labels
from procedo.templates import check_template, render_header

Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Outcome(Params, frozen=True):
    port: Annotated[
        Key,
        form(
            Labels("Port", "Uitgang", "Ausgang"),
            Labels(
                "Technical name of the outcome (approve); the flow continues there.",
                "Technische naam van de uitkomst (approve); de flow gaat daar verder.",
                "Technischer Name des Ergebnisses (approve); der Ablauf geht dort weiter.",
            ),
        ),
    ]
    label: Annotated[
        Title,
        form(
            Labels("Button text", "Knoptekst", "Schaltflächentext"),
            Labels(
                "What the person clicks to choose this outcome.",
                "Waarop de persoon klikt om deze uitkomst te kiezen.",
                "Worauf die Person klickt, um dieses Ergebnis zu wählen.",
            ),
        ),
    ]


class Checkpoint(Params, frozen=True):
    id: Annotated[Key, form(Labels("Id", "Id", "Id"))]
    label: Annotated[Title, form(Labels("Text", "Tekst", "Text"))]
    mandatory: Annotated[
        bool,
        form(
            Labels("Mandatory", "Verplicht", "Pflicht"),
            Labels(
                "The task cannot be completed until this is ticked.",
                "De taak kan pas worden afgerond als dit is aangevinkt.",
                "Die Aufgabe kann erst abgeschlossen werden, wenn dies abgehakt ist.",
            ),
        ),
    ] = False


TaskKind = Literal["general", "phone_call", "lawyer_handover", "approval"]
TASK_KINDS: tuple[tuple[str, Labels], ...] = (
    ("general", Labels("General task", "Algemene taak", "Allgemeine Aufgabe")),
    ("phone_call", Labels("Phone call", "Telefoongesprek", "Telefonanruf")),
    ("lawyer_handover", Labels("Lawyer handover", "Overdracht aan advocaat", "Anwaltsübergabe")),
    ("approval", Labels("Approval", "Goedkeuring", "Freigabe")),
)


class AssignRoleParams(Params, kw_only=True, frozen=True):
    title: Annotated[
        Title,
        form(
            Labels("Task title", "Titel van de taak", "Titel der Aufgabe"),
            Labels(
                "Shown in the inbox; may name fields: {{ subject.name }}.",
                "Staat in de inbox; mag velden noemen: {{ subject.name }}.",
                "Erscheint im Posteingang; darf Felder nennen: {{ subject.name }}.",
            ),
        ),
    ]
    instructions: Annotated[
        str,
        msgspec.Meta(max_length=10_000),
        form(Labels("Instructions", "Instructies", "Anweisungen")),
    ] = ""
    assignee: Annotated[
        Assignee,
        form(
            Labels("Who does it", "Wie doet het", "Wer erledigt es"),
            Labels(
                "A role, or one user; not both.",
                "Een rol, of één gebruiker; niet allebei.",
                "Eine Rolle oder ein Benutzer; nicht beides.",
            ),
        ),
    ]
    outcomes: Annotated[
        list[Outcome],
        msgspec.Meta(min_length=1, max_length=20),
        form(
            Labels("Outcomes", "Uitkomsten", "Ergebnisse"),
            Labels(
                "One button and one way out per outcome.",
                "Per uitkomst één knop en één uitgang.",
                "Pro Ergebnis eine Schaltfläche und ein Ausgang.",
            ),
        ),
    ]
    checkpoints: Annotated[
        list[Checkpoint],
        msgspec.Meta(max_length=100),
        form(Labels("Checkpoints", "Controlepunten", "Prüfpunkte")),
    ] = []
    due: Annotated[
        Duration | None,
        form(
            Labels("Due within", "Af binnen", "Fällig innerhalb"),
            Labels(
                "When it passes, the 'overdue' way out fires; the task stays open.",
                "Daarna gaat de uitgang 'te laat' af; de taak blijft open.",
                "Danach feuert der Ausgang 'überfällig'; die Aufgabe bleibt offen.",
            ),
        ),
    ] = None
    kind: Annotated[
        TaskKind,
        form(
            Labels("Task type", "Soort taak", "Aufgabentyp"),
            Labels(
                "Worklists filter by it. An approval puts what follows its first outcome on "
                "the approval list; its second outcome rejects.",
                "Werklijsten filteren erop. Een goedkeuring zet wat na de eerste uitkomst "
                "volgt op de goedkeuringslijst; de tweede uitkomst wijst af.",
                "Arbeitslisten filtern danach. Eine Freigabe stellt, was nach dem ersten "
                "Ergebnis folgt, in die Freigabeliste; das zweite Ergebnis lehnt ab.",
            ),
            options=TASK_KINDS,
        ),
    ] = "general"
    # What the task counts as in the subject's computed facts (docs/receivables.md).
    mark: Annotated[
        Literal["", "call"],
        form(
            Labels("Counts as", "Telt als", "Zählt als"),
            Labels(
                "A call task counts in the debtor's open call tasks, and once done in its "
                "number of calls.",
                "Een beltaak telt mee in de open beltaken van de debiteur, en afgerond in "
                "het aantal belpogingen.",
                "Eine Anrufaufgabe zählt zu den offenen Anrufaufgaben des Debitors, "
                "erledigt zur Anzahl der Anrufe.",
            ),
            options=(
                ("", Labels("Nothing special", "Niets bijzonders", "Nichts Besonderes")),
                ("call", Labels("Phone call", "Telefoongesprek", "Telefonanruf")),
            ),
        ),
    ] = ""


OVERDUE = Port("overdue", Labels(en="Overdue", nl="Te laat", de="Überfällig"), optional=True)


def ports(params: AssignRoleParams) -> list[Port]:
    found = [Port(o.port, Labels(en=o.label, nl=o.label, de=o.label)) for o in params.outcomes]
    return [*found, OVERDUE] if params.due is not None else found


def enter(params: AssignRoleParams, context: Context) -> Decision:
    due_at = (
        add(context.now, params.due, context.timezone, context.working_days) if params.due else None
    )
    values = {"subject": context.subject, "vars": context.variables}
    task = OpenTask(
        title=render_header(params.title, values, place=f"node '{context.node_id}' $.title"),
        instructions=params.instructions,
        assignee=params.assignee,
        outcomes=tuple(TaskOutcome(o.port, o.label) for o in params.outcomes),
        checkpoints=tuple(TaskCheckpoint(c.id, c.label, c.mandatory) for c in params.checkpoints),
        due_at=due_at,
        kind=params.kind,
    )
    if due_at is None:
        return wait(task)
    return wait(task, StartTimer(at=due_at, purpose="due"))


def resume(params: AssignRoleParams, context: Context, signal: Signal) -> Decision:
    if isinstance(signal, TimerFired) and signal.purpose == "due":
        # The task stays open: a branch leaves on `overdue` while this node keeps waiting.
        return Decision(port="overdue", wait=True)
    if not isinstance(signal, TaskCompleted):
        return wait()
    outcomes = [o.port for o in params.outcomes]
    if signal.outcome not in outcomes:
        raise Refused(f"unknown outcome '{signal.outcome}'; choose one of {', '.join(outcomes)}")
    missing = [
        c.label for c in params.checkpoints if c.mandatory and c.id not in signal.checkpoints
    ]
    if missing:
        raise Refused(f"tick the mandatory checkpoints first: {', '.join(missing)}")
    return go(signal.outcome)


def check(params: AssignRoleParams, context: CheckContext) -> list[ParamProblem]:
    problems = check_assignee(params.assignee, "$.assignee")
    problems += check_template(params.title, context.subject_type, "$.title", header=True)
    for name, items in (
        ("outcomes", [o.port for o in params.outcomes]),
        ("checkpoints", [c.id for c in params.checkpoints]),
    ):
        repeated = sorted({i for i in items if items.count(i) > 1})
        if repeated:
            problems.append(
                ParamProblem(
                    code="assign_role.duplicate",
                    message=f"{name} repeat {', '.join(repeated)}; give each its own id",
                    path=f"$.{name}",
                )
            )
    if params.kind == "approval" and len(params.outcomes) != 2:
        problems.append(
            ParamProblem(
                code="assign_role.approval.outcomes",
                message="an approval has two outcomes: the first approves, the second rejects",
                path="$.outcomes",
            )
        )
    if "overdue" in (o.port for o in params.outcomes):
        problems.append(
            ParamProblem(
                code="assign_role.duplicate",
                message="'overdue' is reserved for the due-time port; name the outcome differently",
                path="$.outcomes",
            )
        )
    return problems


NODE = NodeType(
    type="assign_role",
    labels=Labels(en="Task for a role", nl="Taak voor een rol", de="Aufgabe für eine Rolle"),
    description=Labels(
        en="A person in the role (or the named user) decides; the flow waits for the outcome.",
        nl="Iemand met de rol (of de genoemde gebruiker) beslist; de flow wacht op de uitkomst.",
        de="Eine Person in der Rolle (oder der genannte Benutzer) entscheidet; der Ablauf wartet.",
    ),
    category="people",
    params=AssignRoleParams,
    ports=ports,
    ports_help=Labels(
        "one per outcome, plus overdue when a due time is set",
        "één per uitkomst, plus te laat als er een termijn is",
        "einer pro Ergebnis, plus überfällig bei einer Frist",
    ),
    enter=enter,
    resume=resume,
    check=check,
    waits=True,
    example={
        "title": "Approve invoice",
        "assignee": {"role": "Accountant"},
        "outcomes": [
            {"port": "approve", "label": "Approve"},
            {"port": "reject", "label": "Reject"},
        ],
    },
    examples={
        "nl": {
            "title": "Factuur goedkeuren",
            "assignee": {"role": "Accountant"},
            "outcomes": [
                {"port": "approve", "label": "Goedkeuren"},
                {"port": "reject", "label": "Afwijzen"},
            ],
        },
        "de": {
            "title": "Rechnung freigeben",
            "assignee": {"role": "Accountant"},
            "outcomes": [
                {"port": "approve", "label": "Freigeben"},
                {"port": "reject", "label": "Ablehnen"},
            ],
        },
    },
)
