"""Procedure action: a step of a collection procedure proposes an action (P4).

The action is an email (a letter when the debtor has no address), a letter, a call,
a hand-over or a status. A step set to ``automatic`` performs it at once; a ``manual``
one puts it on the worksheet of a role or user (a task whose outcomes are ``perform``
and ``skip``) and the flow waits there: performing it then does what the action does,
skipping it does nothing; either way the flow continues on ``next``. A step-by-step
procedure thereby waits until the call is logged (P3). See docs/procedures.md.
"""

from typing import Annotated, Literal

import msgspec

from procedo.nodeforms import form
from procedo.nodes.email import EMAIL, AddressRecipient, FieldRecipient, Recipient, RoleRecipient
from procedo.nodes.letter import from_library
from procedo.nodetypes import (
    NEXT,
    Assignee,
    CheckContext,
    Context,
    Decision,
    Effect,
    NodeType,
    NoticeMark,
    OpenTask,
    ParamProblem,
    Params,
    QueueEmail,
    QueueLetter,
    Refused,
    SetStatus,
    Signal,
    TaskCompleted,
    TaskOutcome,
    check_assignee,
    go,
    wait,
)
from procedo.paths import resolve
from procedo.subjects import Labels
from procedo.templates import check_template, render, render_header

ActionKind = Literal["email", "letter", "call", "handover", "status"]
PERFORM = "perform"
SKIP = "skip"


class ProcedureActionParams(Params, kw_only=True, frozen=True):
    action: Annotated[
        ActionKind,
        form(
            Labels("Action", "Actie", "Aktion"),
            options=(
                (
                    "email",
                    Labels(
                        "Email",
                        "E-mail",
                        "E-Mail",
                    ),
                ),
                ("letter", Labels("Letter", "Brief", "Brief")),
                ("call", Labels("Phone call", "Telefoongesprek", "Telefonanruf")),
                ("handover", Labels("Hand over", "Overdragen", "Übergeben")),
                ("status", Labels("Set status", "Status zetten", "Status setzen")),
            ),
        ),
    ]
    mode: Annotated[
        Literal["automatic", "manual"],
        form(
            Labels("Performed", "Uitgevoerd", "Ausgeführt"),
            Labels(
                "Automatic: at once. Manual: proposed on the worksheet; the flow waits "
                "until it is done or skipped.",
                "Automatisch: meteen. Handmatig: voorgesteld op het werkblad; de flow "
                "wacht tot het gedaan of overgeslagen is.",
                "Automatisch: sofort. Manuell: auf dem Arbeitsblatt vorgeschlagen; der "
                "Ablauf wartet, bis sie erledigt oder übersprungen ist.",
            ),
            options=(
                ("automatic", Labels("Automatically", "Automatisch", "Automatisch")),
                ("manual", Labels("From the worksheet", "Via het werkblad", "Vom Arbeitsblatt")),
            ),
        ),
    ] = "manual"
    title: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=200),
        form(
            Labels("Title", "Titel", "Titel"),
            Labels(
                "Shown on the worksheet; may name fields: {{ subject.name }}.",
                "Staat op het werkblad; mag velden noemen: {{ subject.name }}.",
                "Erscheint auf dem Arbeitsblatt; darf Felder nennen: {{ subject.name }}.",
            ),
        ),
    ]
    assignee: Annotated[
        Assignee,
        form(
            Labels("Whose worksheet", "Wiens werkblad", "Wessen Arbeitsblatt"),
            Labels(
                "Manual actions: a role, or one user.",
                "Handmatige acties: een rol, of één gebruiker.",
                "Manuelle Aktionen: eine Rolle oder ein Benutzer.",
            ),
        ),
    ] = Assignee()
    to: Annotated[
        Recipient,
        form(
            Labels("Email to", "E-mail aan", "E-Mail an"),
            options=(
                (
                    "field",
                    Labels(
                        "A field of the subject",
                        "Een veld van het onderwerp",
                        "Ein Feld des Objekts",
                    ),
                ),
                (
                    "role",
                    Labels(
                        "The members of a role",
                        "De leden van een rol",
                        "Die Mitglieder einer Rolle",
                    ),
                ),
                ("address", Labels("A fixed address", "Een vast adres", "Eine feste Adresse")),
            ),
        ),
    ] = FieldRecipient(field="subject.email")
    # The email's or letter's texts: a template of the library, or subject and body here.
    template: Annotated[
        str,
        msgspec.Meta(pattern=r"^([a-z][a-z0-9_-]{0,63})?$"),
        form(
            Labels("Template", "Sjabloon", "Vorlage"),
            Labels(
                "From the library, in the subject's language; or write subject and message.",
                "Uit de bibliotheek, in de taal van het onderwerp; of schrijf zelf de tekst.",
                "Aus der Bibliothek, in der Sprache des Objekts; oder Betreff und Nachricht.",
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
    otherwise_letter: Annotated[
        bool,
        form(
            Labels(
                "A letter without an address", "Een brief zonder adres", "Ohne Adresse ein Brief"
            ),
            Labels(
                "When the email has no address, the letter goes by post instead.",
                "Als de e-mail geen adres heeft, gaat de brief per post.",
                "Hat die E-Mail keine Adresse, geht der Brief per Post.",
            ),
        ),
    ] = False
    # What a sent email or letter counts as (a call always counts as a call).
    counts_as: NoticeMark = ""
    status: Annotated[
        str,
        msgspec.Meta(pattern=r"^([a-z][a-z0-9_]{0,63})?$"),
        form(
            Labels("Status", "Status", "Status"),
            Labels(
                "Hand-over and status actions set this status (handed_over by default).",
                "Overdracht en statusacties zetten deze status (standaard handed_over).",
                "Übergabe- und Statusaktionen setzen diesen Status (sonst handed_over).",
            ),
        ),
    ] = ""

    @property
    def mark(self) -> str:
        """Read by the runtime (effects.node_mark) for the task and message history rows."""
        return "call" if self.action == "call" else self.counts_as


def _recipients(params: ProcedureActionParams, context: Context) -> tuple[str, ...]:
    to = params.to
    if isinstance(to, RoleRecipient):
        found: list[object] = list(context.roles.get(to.role, ()))
    elif isinstance(to, AddressRecipient):
        found = [to.address]
    else:
        value = resolve(context.subject, context.variables, to.field)
        found = value if isinstance(value, list) else [value]
    return tuple(a for a in found if isinstance(a, str) and EMAIL.match(a))


def perform(params: ProcedureActionParams, context: Context) -> tuple[Effect, ...]:
    """The effects of doing the action now (a call is done by the person: none)."""
    values = {"subject": context.subject, "vars": context.variables}
    node = f"node '{context.node_id}'"
    if params.action in ("email", "letter"):
        to = _recipients(params, context) if params.action == "email" else ()
        if params.action == "email" and not to and not params.otherwise_letter:
            # Failing shows on the instance with this text; a retry sends it once fixed.
            raise ValueError(f"{node} $.to: no email address to send to; fill it in and retry")
        if params.template:  # rendered from the library as it leaves or is printed
            if to:
                named = f"(template {params.template})"
                return (QueueEmail(to=to, subject=named, body="", template=params.template),)
            return (from_library("standard", params.template),)
        subject = render_header(params.subject, values, place=f"{node} $.subject")
        body = render(params.body, values, html=True, place=f"{node} $.body")
        if to:
            return (QueueEmail(to=to, subject=subject, body=body),)
        return (QueueLetter(template="standard", subject=subject, body=body),)
    if params.action in ("handover", "status"):
        return (SetStatus(params.status or "handed_over"),)
    return ()


def enter(params: ProcedureActionParams, context: Context) -> Decision:
    if params.mode == "automatic":
        return go("next", *perform(params, context))
    values = {"subject": context.subject, "vars": context.variables}
    return wait(
        OpenTask(
            title=render_header(params.title, values, place=f"node '{context.node_id}' $.title"),
            instructions="",
            assignee=params.assignee,
            outcomes=(TaskOutcome(PERFORM, "Perform"), TaskOutcome(SKIP, "Skip")),
            checkpoints=(),
            due_at=None,
        )
    )


def resume(params: ProcedureActionParams, context: Context, signal: Signal) -> Decision:
    if not isinstance(signal, TaskCompleted):
        return wait()
    if signal.outcome == PERFORM:
        return go("next", *perform(params, context))
    if signal.outcome == SKIP:
        return go("next")
    raise Refused(f"unknown outcome '{signal.outcome}'; choose {PERFORM} or {SKIP}")


def check(params: ProcedureActionParams, context: CheckContext) -> list[ParamProblem]:
    problems: list[ParamProblem] = []
    if params.mode == "manual":
        problems += check_assignee(params.assignee, "$.assignee")
    elif params.action == "call":
        problems.append(
            ParamProblem(
                code="procedure_action.call_automatic",
                message="a call is made by a person; set mode to manual (from the worksheet)",
                path="$.mode",
            )
        )
    if params.action in ("email", "letter") and params.template:
        if params.subject or params.body:
            problems.append(
                ParamProblem(
                    code="procedure_action.template_and_text",
                    message="name a template or write subject and body, not both: "
                    "the template's texts would be ignored or these",
                    path="$.template",
                )
            )
    elif params.action in ("email", "letter"):
        for name in ("subject", "body"):
            if not getattr(params, name):
                problems.append(
                    ParamProblem(
                        code="procedure_action.text_missing",
                        message=f"write the {name} of the {params.action}, "
                        "or name a template of the library",
                        path=f"$.{name}",
                    )
                )
        problems += check_template(params.subject, context.subject_type, "$.subject", header=True)
        problems += check_template(params.body, context.subject_type, "$.body")
    problems += check_template(params.title, context.subject_type, "$.title", header=True)
    return problems


NODE = NodeType(
    type="procedure_action",
    labels=Labels(en="Procedure action", nl="Procedure-actie", de="Verfahrensaktion"),
    description=Labels(
        en="Proposes an action (email, letter, call, hand-over): performed at once, or from "
        "the worksheet, where it is done, postponed or skipped.",
        nl="Stelt een actie voor (e-mail, brief, telefoon, overdracht): meteen uitgevoerd, "
        "of via het werkblad, waar ze gedaan, uitgesteld of overgeslagen wordt.",
        de="Schlägt eine Aktion vor (E-Mail, Brief, Anruf, Übergabe): sofort ausgeführt oder "
        "vom Arbeitsblatt, wo sie erledigt, verschoben oder übersprungen wird.",
    ),
    category="people",
    params=ProcedureActionParams,
    ports=lambda params: [NEXT],
    enter=enter,
    resume=resume,
    check=check,
    waits=True,
    roles=lambda params: [params.to.role] if isinstance(params.to, RoleRecipient) else [],
    example={
        "action": "call",
        "mode": "manual",
        "title": "Call {{ subject.name }}",
        "assignee": {"role": "Collections"},
    },
    examples={
        "nl": {
            "action": "call",
            "mode": "manual",
            "title": "{{ subject.name }} bellen",
            "assignee": {"role": "Collections"},
        },
        "de": {
            "action": "call",
            "mode": "manual",
            "title": "{{ subject.name }} anrufen",
            "assignee": {"role": "Collections"},
        },
    },
)
