"""Phase: a stage of an office's work (preparation, review, filing) held by a role (K2, K3).

Entering it opens the phase's task for the role (a member per client overrides the
office's members, as for ``assign_role``) with its checkpoints, and runs its
automations: messages from a template, tasks for other roles. The checkpoints are
ticked one by one in the inbox (``POST /tasks/{id}/tick``, who and when kept). The
phase ends when a person completes it, refused while a mandatory checkpoint is
open; or, with ``advance: automatic``, by itself once every mandatory checkpoint is
ticked and the instance has no open client request (procedo.runtime.phases, which
also re-checks on the event ``client_request.completed``).

A task an automation creates belongs to the phase: completing it lets the phase
wait on; if it is still open when the phase ends, it is cancelled with it.
"""

from typing import Annotated, Literal, TypeAlias

import msgspec

from procedo.mail import safe_links
from procedo.nodeforms import form
from procedo.nodes.assign_role import Checkpoint, Title
from procedo.nodes.email import Recipient, RoleRecipient, recipients_of
from procedo.nodetypes import (
    Assignee,
    CheckContext,
    Context,
    Decision,
    Effect,
    NodeType,
    OpenTask,
    ParamProblem,
    Params,
    Port,
    QueueEmail,
    Refused,
    Signal,
    TaskCheckpoint,
    TaskCompleted,
    TaskOutcome,
    go,
    wait,
)
from procedo.subjects import Labels
from procedo.templates import check_template, render, render_header

# The outcome of the phase's own task, and of the tasks its automations create.
COMPLETE = "complete"
TASK_DONE = "task_done"
DONE = Port("done", Labels(en="Phase done", nl="Fase afgerond", de="Phase abgeschlossen"))

RoleName = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=100),
    form(
        Labels("Role", "Rol", "Rolle"),
        Labels(
            "Its members (for this client, else the office's) do the work.",
            "De leden (voor deze klant, anders die van het kantoor) doen het werk.",
            "Ihre Mitglieder (für diesen Mandanten, sonst die des Büros) erledigen es.",
        ),
        picker="role",
    ),
]
TITLE_HELP = Labels(
    "Shown in the inbox; may name fields: {{ subject.name }}, {{ vars.period }}.",
    "Staat in de inbox; mag velden noemen: {{ subject.name }}, {{ vars.period }}.",
    "Erscheint im Posteingang; darf Felder nennen: {{ subject.name }}, {{ vars.period }}.",
)


class _Automation(Params, tag_field="kind", frozen=True):
    pass


class SendMessage(_Automation, tag="message", frozen=True):
    to: Annotated[
        Recipient,
        form(
            Labels("To", "Aan", "An"),
            options=(
                ("field", Labels("A field of the subject", "Een veld", "Ein Feld des Objekts")),
                (
                    "role",
                    Labels("A role's members", "De leden van een rol", "Mitglieder einer Rolle"),
                ),
                ("address", Labels("A fixed address", "Een vast adres", "Eine feste Adresse")),
            ),
        ),
    ]
    template: Annotated[
        str,
        msgspec.Meta(pattern=r"^([a-z][a-z0-9_-]{0,63})?$"),
        form(
            Labels("Template", "Sjabloon", "Vorlage"),
            Labels(
                "A template of the library; or write subject and body instead.",
                "Een sjabloon uit de bibliotheek; of schrijf onderwerp en tekst.",
                "Eine Vorlage der Bibliothek; oder Betreff und Text schreiben.",
            ),
            picker="template",
        ),
    ] = ""
    subject: Annotated[
        str,
        msgspec.Meta(max_length=500),
        form(Labels("Subject line", "Onderwerpregel", "Betreffzeile")),
    ] = ""
    body: Annotated[
        str,
        msgspec.Meta(max_length=100_000),
        form(Labels("Message", "Bericht", "Nachricht")),
    ] = ""


class CreateTask(_Automation, tag="task", frozen=True):
    role: RoleName
    title: Annotated[
        Title, form(Labels("Task title", "Titel van de taak", "Titel der Aufgabe"), TITLE_HELP)
    ]
    instructions: Annotated[
        str,
        msgspec.Meta(max_length=10_000),
        form(Labels("Instructions", "Instructies", "Anweisungen")),
    ] = ""
    button: Annotated[
        Title,
        form(
            Labels("Button text", "Knoptekst", "Schaltflächentext"),
            Labels(
                "What the person clicks when the task is done.",
                "Waarop de persoon klikt als de taak klaar is.",
                "Worauf die Person klickt, wenn die Aufgabe erledigt ist.",
            ),
        ),
    ] = "Done"


Automation: TypeAlias = SendMessage | CreateTask


class PhaseParams(Params, kw_only=True, frozen=True):
    name: Annotated[
        Title,
        form(
            Labels("Phase", "Fase", "Phase"),
            Labels(
                "The phase's name (Preparation); the task's title when none is given.",
                "De naam van de fase (Voorbereiding); de titel van de taak als die ontbreekt.",
                "Name der Phase (Vorbereitung); Titel der Aufgabe, wenn keiner angegeben ist.",
            ),
        ),
    ]
    role: RoleName
    title: Annotated[
        str,
        msgspec.Meta(max_length=200),
        form(Labels("Task title", "Titel van de taak", "Titel der Aufgabe"), TITLE_HELP),
    ] = ""
    instructions: Annotated[
        str,
        msgspec.Meta(max_length=10_000),
        form(Labels("Instructions", "Instructies", "Anweisungen")),
    ] = ""
    checkpoints: Annotated[
        list[Checkpoint],
        msgspec.Meta(max_length=100),
        form(
            Labels("Checkpoints", "Controlepunten", "Prüfpunkte"),
            Labels(
                "Ticked one by one in the inbox; mandatory ones block completing the phase.",
                "Een voor een afgevinkt in de inbox; verplichte blokkeren het afronden.",
                "Einzeln im Posteingang abgehakt; Pflichtpunkte blockieren den Abschluss.",
            ),
        ),
    ] = []
    advance: Annotated[
        Literal["by_hand", "automatic"],
        form(
            Labels("Moves on", "Gaat verder", "Geht weiter"),
            Labels(
                "Automatic: once every mandatory checkpoint is ticked and every client "
                "request of this run is done.",
                "Automatisch: zodra alle verplichte controlepunten zijn afgevinkt en alle "
                "verzoeken aan de klant in deze run klaar zijn.",
                "Automatisch: sobald alle Pflichtpunkte abgehakt und alle Anfragen an den "
                "Mandanten in diesem Lauf erledigt sind.",
            ),
            options=(
                (
                    "by_hand",
                    Labels(
                        "When a person completes it",
                        "Als iemand hem afrondt",
                        "Wenn jemand sie abschließt",
                    ),
                ),
                ("automatic", Labels("By itself", "Vanzelf", "Von selbst")),
            ),
        ),
    ] = "by_hand"
    button: Annotated[
        Title,
        form(
            Labels("Button text", "Knoptekst", "Schaltflächentext"),
            Labels(
                "What the person clicks to complete the phase.",
                "Waarop de persoon klikt om de fase af te ronden.",
                "Worauf die Person klickt, um die Phase abzuschließen.",
            ),
        ),
    ] = "Complete"
    on_enter: Annotated[
        list[Automation],
        msgspec.Meta(max_length=20),
        form(
            Labels("On entering", "Bij binnenkomst", "Beim Eintritt"),
            Labels(
                "Sent or created once, when the phase starts.",
                "Eenmalig verstuurd of aangemaakt, als de fase begint.",
                "Einmal gesendet oder angelegt, wenn die Phase beginnt.",
            ),
            options=(
                ("message", Labels("Send a message", "Bericht versturen", "Nachricht senden")),
                ("task", Labels("Create a task", "Taak aanmaken", "Aufgabe anlegen")),
            ),
        ),
    ] = []


def ports(params: PhaseParams) -> list[Port]:
    return [DONE]


def _message(item: SendMessage, context: Context, place: str) -> QueueEmail | None:
    to = recipients_of(item.to, context)
    if not to:
        return None  # nobody to write to: the phase goes on, the history shows no message
    if item.template:
        named = f"(template {item.template})"
        return QueueEmail(to=to, subject=named, body="", template=item.template)
    values = {"subject": context.subject, "vars": context.variables}
    return QueueEmail(
        to=to,
        subject=render_header(item.subject, values, place=f"{place}.subject"),
        body=safe_links(render(item.body, values, html=True, place=f"{place}.body")),
    )


def enter(params: PhaseParams, context: Context) -> Decision:
    values = {"subject": context.subject, "vars": context.variables}
    node = f"node '{context.node_id}'"
    effects: list[Effect] = [
        OpenTask(
            title=render_header(params.title or params.name, values, place=f"{node} $.title"),
            instructions=params.instructions,
            assignee=Assignee(role=params.role),
            outcomes=(TaskOutcome(COMPLETE, params.button),),
            checkpoints=tuple(
                TaskCheckpoint(c.id, c.label, c.mandatory) for c in params.checkpoints
            ),
            due_at=None,
        )
    ]
    for index, item in enumerate(params.on_enter):
        place = f"{node} $.on_enter[{index}]"
        if isinstance(item, SendMessage):
            message = _message(item, context, place)
            if message is not None:
                effects.append(message)
        else:
            effects.append(
                OpenTask(
                    title=render_header(item.title, values, place=f"{place}.title"),
                    instructions=item.instructions,
                    assignee=Assignee(role=item.role),
                    outcomes=(TaskOutcome(TASK_DONE, item.button),),
                    checkpoints=(),
                    due_at=None,
                )
            )
    return wait(*effects)


def resume(params: PhaseParams, context: Context, signal: Signal) -> Decision:
    if not isinstance(signal, TaskCompleted) or signal.outcome == TASK_DONE:
        return wait()  # an automation's task is done; the phase itself goes on
    if signal.outcome != COMPLETE:
        raise Refused(f"unknown outcome '{signal.outcome}'; a phase completes with '{COMPLETE}'")
    missing = [
        c.label for c in params.checkpoints if c.mandatory and c.id not in signal.checkpoints
    ]
    if missing:
        raise Refused(
            f"the phase '{params.name}' cannot complete yet: tick the mandatory checkpoints "
            f"first: {', '.join(missing)}"
        )
    return go(DONE.name)


def check(params: PhaseParams, context: CheckContext) -> list[ParamProblem]:
    problems: list[ParamProblem] = []
    if params.title:
        problems += check_template(params.title, context.subject_type, "$.title", header=True)
    else:
        problems += check_template(params.name, context.subject_type, "$.name", header=True)
    ids = [c.id for c in params.checkpoints]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        problems.append(
            ParamProblem(
                code="assign_role.duplicate",
                message=f"checkpoints repeat {', '.join(repeated)}; give each its own id",
                path="$.checkpoints",
            )
        )
    for index, item in enumerate(params.on_enter):
        path = f"$.on_enter[{index}]"
        if isinstance(item, CreateTask):
            problems += check_template(
                item.title, context.subject_type, f"{path}.title", header=True
            )
            continue
        if item.template and (item.subject or item.body):
            problems.append(
                ParamProblem(
                    code="email.template_and_text",
                    message="name a template or write subject and body, not both",
                    path=f"{path}.template",
                )
            )
        elif not item.template:
            missing = [name for name in ("subject", "body") if not getattr(item, name)]
            if missing:
                problems.append(
                    ParamProblem(
                        code="email.text.missing",
                        message=f"write the {' and '.join(missing)}, or name a template "
                        "of the library",
                        path=f"{path}.{missing[0]}",
                    )
                )
                continue
            problems += check_template(
                item.subject, context.subject_type, f"{path}.subject", header=True
            )
            problems += check_template(item.body, context.subject_type, f"{path}.body")
    return problems


def roles(params: PhaseParams) -> list[str]:
    """Roles whose members' addresses a message on entering is sent to."""
    return [
        item.to.role
        for item in params.on_enter
        if isinstance(item, SendMessage) and isinstance(item.to, RoleRecipient)
    ]


_CHECKPOINTS_EN = [
    {"id": "documents", "label": "Documents received", "mandatory": True},
    {"id": "booked", "label": "Everything booked"},
]

NODE = NodeType(
    type="phase",
    labels=Labels(en="Phase", nl="Fase", de="Phase"),
    description=Labels(
        en="A stage held by a role, with checkpoints to tick and automations on entering.",
        nl="Een fase voor een rol, met controlepunten om af te vinken en automatische acties.",
        de="Eine Phase einer Rolle, mit Prüfpunkten zum Abhaken und Aktionen beim Eintritt.",
    ),
    category="people",
    params=PhaseParams,
    ports=ports,
    ports_help=Labels(
        "done, when the phase completes",
        "afgerond, als de fase klaar is",
        "abgeschlossen, wenn die Phase fertig ist",
    ),
    enter=enter,
    resume=resume,
    check=check,
    roles=roles,
    waits=True,
    example={"name": "Preparation", "role": "Administratie", "checkpoints": _CHECKPOINTS_EN},
    examples={
        "nl": {
            "name": "Voorbereiding",
            "role": "Administratie",
            "button": "Afronden",
            "checkpoints": [
                {"id": "documents", "label": "Stukken ontvangen", "mandatory": True},
                {"id": "booked", "label": "Alles geboekt"},
            ],
        },
        "de": {
            "name": "Vorbereitung",
            "role": "Administratie",
            "button": "Abschließen",
            "checkpoints": [
                {"id": "documents", "label": "Unterlagen erhalten", "mandatory": True},
                {"id": "booked", "label": "Alles gebucht"},
            ],
        },
    },
)
