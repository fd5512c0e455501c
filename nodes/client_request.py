"""Request from client: documents to upload and fields to fill, asked through the client page (K3).

On entering, the client's contact (the primary contact, or the contact with a
function) gets the message with a link to the client page, which lists what is
asked. The node waits until everything mandatory arrived (`complete`) or the
deadline passes (`overdue`); meanwhile a reminder goes out every N days. The
request, the link and the email are rows the runtime writes from the effect
(procedo.clientpage.requests); the node itself stays pure.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, TypeAlias

import msgspec

from procedo.durations import Duration, add
from procedo.mail import safe_links
from procedo.nodeforms import form
from procedo.nodetypes import (
    CheckContext,
    ClientRequestAction,
    Context,
    Decision,
    Effect,
    EventReceived,
    NodeType,
    ParamProblem,
    Params,
    Port,
    RequestItem,
    Signal,
    StartTimer,
    TimerFired,
    go,
    wait,
)
from procedo.paths import resolve
from procedo.subjects import Labels
from procedo.templates import check_template, render, render_header

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGES = ("nl", "de", "en")


class _Contact(Params, tag_field="kind", frozen=True):
    pass


class PrimaryContact(_Contact, tag="primary", frozen=True):
    pass


class ContactByFunction(_Contact, tag="function", frozen=True):
    function: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=100),
        form(
            Labels("Function", "Functie", "Funktion"),
            Labels(
                "The contact whose function this is (Directeur, Administratie), from the "
                "client's contacts.",
                "De contactpersoon met deze functie (Directeur, Administratie), uit de "
                "contactpersonen van de relatie.",
                "Der Ansprechpartner mit dieser Funktion (Geschäftsführer, Buchhaltung), aus "
                "den Ansprechpartnern des Mandanten.",
            ),
        ),
    ]


Contact: TypeAlias = PrimaryContact | ContactByFunction

CONTACT = form(
    Labels("To which contact", "Aan welke contactpersoon", "An welchen Ansprechpartner"),
    Labels(
        "The client's primary contact, or the contact with a function.",
        "De primaire contactpersoon van de relatie, of die met een functie.",
        "Der Hauptansprechpartner des Mandanten, oder der mit einer Funktion.",
    ),
    options=(
        ("primary", Labels("Primary contact", "Primaire contactpersoon", "Hauptansprechpartner")),
        ("function", Labels("By function", "Op functie", "Nach Funktion")),
    ),
)


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    id: Annotated[
        str,
        msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$"),
        form(
            Labels("Key", "Sleutel", "Schlüssel"),
            Labels(
                "A short name, unique in this node (bank_statement).",
                "Een korte naam, uniek in deze node (bankafschrift).",
                "Ein kurzer Name, eindeutig in diesem Knoten (kontoauszug).",
            ),
        ),
    ]
    kind: Annotated[
        Literal["document", "field"],
        form(
            Labels("What", "Wat", "Was"),
            options=(
                (
                    "document",
                    Labels(
                        "A document to upload",
                        "Een stuk om te uploaden",
                        "Ein Dokument zum Hochladen",
                    ),
                ),
                (
                    "field",
                    Labels("A field to fill", "Een veld om in te vullen", "Ein Feld zum Ausfüllen"),
                ),
            ),
        ),
    ]
    label: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=200),
        form(
            Labels(
                "Label (as the client reads it)",
                "Omschrijving (zoals de klant die leest)",
                "Bezeichnung (wie der Mandant sie liest)",
            ),
        ),
    ]
    mandatory: Annotated[bool, form(Labels("Mandatory", "Verplicht", "Erforderlich"))] = True


MESSAGE_HELP = Labels(
    "The email to the contact; a link to the client page is added below it. May name "
    "fields: {{ subject.name }}.",
    "De e-mail aan de contactpersoon; een link naar de klantpagina komt eronder. Mag "
    "velden noemen: {{ subject.name }}.",
    "Die E-Mail an den Ansprechpartner; ein Link zur Mandantenseite folgt darunter. Darf "
    "Felder nennen: {{ subject.name }}.",
)
REMINDER = form(
    Labels("Remind every (days)", "Herinneren om de (dagen)", "Erinnern alle (Tage)"),
    Labels(
        "Until everything is in; 0: no reminders.",
        "Tot alles binnen is; 0: geen herinneringen.",
        "Bis alles da ist; 0: keine Erinnerungen.",
    ),
)
DEADLINE = form(
    Labels("Deadline", "Uiterste termijn", "Frist"),
    Labels(
        "After it the flow continues on 'overdue'.",
        "Daarna gaat de flow verder op 'te laat'.",
        "Danach geht der Ablauf über 'überfällig' weiter.",
    ),
)
TITLE = Labels("Title", "Titel", "Titel")
SUBJECT_LINE = Labels("Subject line", "Onderwerpregel", "Betreffzeile")
MESSAGE = Labels("Message", "Bericht", "Nachricht")


class ClientRequestParams(Params, frozen=True, kw_only=True):
    title: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=200),
        form(
            TITLE,
            Labels(
                "Shown on the client page and to staff: {{ vars.period }} may be used.",
                "Staat op de klantpagina en bij de medewerkers: {{ vars.period }} mag.",
                "Steht auf der Mandantenseite und bei den Mitarbeitern: {{ vars.period }} geht.",
            ),
        ),
    ]
    items: Annotated[
        list[Item],
        msgspec.Meta(min_length=1, max_length=30),
        form(Labels("What is asked", "Wat wordt gevraagd", "Was angefragt wird")),
    ]
    to: Annotated[Contact, CONTACT] = PrimaryContact()
    subject: Annotated[
        str, msgspec.Meta(min_length=1, max_length=500), form(SUBJECT_LINE, MESSAGE_HELP)
    ]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000), form(MESSAGE, MESSAGE_HELP)]
    reminder_days: Annotated[int, msgspec.Meta(ge=0, le=60), REMINDER] = 7
    deadline: Annotated[Duration | None, DEADLINE] = None


COMPLETE = Port("complete", Labels(en="Complete", nl="Compleet", de="Vollständig"))
OVERDUE = Port("overdue", Labels(en="Overdue", nl="Te laat", de="Überfällig"))


class ContactMissing(ValueError):
    pass


def contact_of(to: Contact, context: Context) -> tuple[str, str]:
    """(email, name) of the contact the request goes to; ContactMissing says what to fill in."""
    subject = context.subject
    if isinstance(to, ContactByFunction):
        wanted = to.function.casefold()
        contacts = subject.get("contacts")
        for contact in contacts if isinstance(contacts, list) else []:
            if (
                isinstance(contact, dict)
                and str(contact.get("function", "")).casefold() == wanted
                and EMAIL.match(str(contact.get("email", "")))
            ):
                return str(contact["email"]), str(contact.get("name", ""))
        primary_function = resolve(subject, {}, "subject.contact.function")
        if not (isinstance(primary_function, str) and primary_function.casefold() == wanted):
            raise ContactMissing(
                f"node '{context.node_id}': the client has no contact with the function "
                f"'{to.function}'; add one to the client's contacts, or send to the primary contact"
            )
    email = subject.get("email")
    if not isinstance(email, str) or not EMAIL.match(email):
        raise ContactMissing(
            f"node '{context.node_id}': the client has no primary contact email; fill in its "
            "'email' field, then retry"
        )
    name = resolve(subject, {}, "subject.contact.name")
    return email, name if isinstance(name, str) else ""


def language_of(context: Context) -> str:
    language = context.subject.get("language")
    return language if isinstance(language, str) and language in LANGUAGES else "nl"


def texts(title: str, subject: str, body: str, context: Context) -> tuple[str, str, str]:
    values = {"subject": context.subject, "vars": context.variables}
    node = f"node '{context.node_id}'"
    return (
        render_header(title, values, place=f"{node} $.title"),
        render_header(subject, values, place=f"{node} $.subject"),
        safe_links(render(body, values, html=True, place=f"{node} $.body")),
    )


def timers(
    reminder_days: int, deadline: Duration | None, context: Context
) -> tuple[tuple[Effect, ...], dt.datetime | None]:
    """The first reminder and the deadline's timers, and the deadline's moment (or None)."""
    effects: list[Effect] = []
    if reminder_days:
        at = add(
            context.now, Duration(reminder_days, "days"), context.timezone, context.working_days
        )
        effects.append(StartTimer(at=at, purpose="remind"))
    due = None
    if deadline is not None:
        due = add(context.now, deadline, context.timezone, context.working_days)
        effects.append(StartTimer(at=due, purpose="deadline"))
    return tuple(effects), due


def enter(params: ClientRequestParams, context: Context) -> Decision:
    email, name = contact_of(params.to, context)
    title, subject, body = texts(params.title, params.subject, params.body, context)
    started, due = timers(params.reminder_days, params.deadline, context)
    ask = ClientRequestAction(
        action="open",
        kind="documents",
        title=title,
        items=tuple(RequestItem(i.id, i.kind, i.label, i.mandatory) for i in params.items),
        contact_email=email,
        contact_name=name,
        language=language_of(context),
        subject=subject,
        body=body,
        reminder_days=params.reminder_days,
        deadline_at=due,
    )
    return wait(ask, *started)


def waiting(
    signal: Signal, reminder_days: int, context: Context, ports: dict[str, str]
) -> Decision:
    """What a request's waiting position does with a signal; ``ports`` maps the client's
    answer (EventReceived's name) to the port it continues on."""
    if isinstance(signal, EventReceived) and signal.event in ports:
        return go(ports[signal.event])
    if isinstance(signal, TimerFired) and signal.purpose == "deadline":
        return go("overdue", ClientRequestAction(action="overdue"))
    if isinstance(signal, TimerFired) and signal.purpose == "remind" and reminder_days:
        at = add(
            context.now, Duration(reminder_days, "days"), context.timezone, context.working_days
        )
        return wait(ClientRequestAction(action="remind"), StartTimer(at=at, purpose="remind"))
    return wait()


def resume(params: ClientRequestParams, context: Context, signal: Signal) -> Decision:
    return waiting(signal, params.reminder_days, context, {"client_request.completed": "complete"})


def ports(params: ClientRequestParams) -> list[Port]:
    return [COMPLETE, OVERDUE] if params.deadline is not None else [COMPLETE]


def check_subject(context: CheckContext) -> list[ParamProblem]:
    if context.subject_type is not None and context.subject_type.name != "client":
        return [
            ParamProblem(
                code="client_request.subject_type",
                message=f"asks a client, but the flow runs on '{context.subject_type.name}'; "
                "use it in a flow on clients",
            )
        ]
    return []


def check_texts(title: str, subject: str, body: str, context: CheckContext) -> list[ParamProblem]:
    return (
        check_template(title, context.subject_type, "$.title", header=True)
        + check_template(subject, context.subject_type, "$.subject", header=True)
        + check_template(body, context.subject_type, "$.body")
    )


def check(params: ClientRequestParams, context: CheckContext) -> list[ParamProblem]:
    problems = check_subject(context)
    seen: set[str] = set()
    for index, item in enumerate(params.items):
        if item.id in seen:
            problems.append(
                ParamProblem(
                    code="client_request.item.duplicate",
                    message=f"the key '{item.id}' is used twice; give each item its own key",
                    path=f"$.items[{index}].id",
                )
            )
        seen.add(item.id)
    return problems + check_texts(params.title, params.subject, params.body, context)


NODE = NodeType(
    type="client_request",
    labels=Labels(en="Request from client", nl="Opvragen bij klant", de="Beim Mandanten anfragen"),
    description=Labels(
        en="Asks the client for documents and data through the client page; waits until "
        "everything mandatory is in, with reminders.",
        nl="Vraagt de klant via de klantpagina om stukken en gegevens; wacht tot alles wat "
        "verplicht is binnen is, met herinneringen.",
        de="Fragt den Mandanten über die Mandantenseite nach Unterlagen und Angaben; wartet, "
        "bis alles Erforderliche da ist, mit Erinnerungen.",
    ),
    category="messages",
    params=ClientRequestParams,
    ports=ports,
    ports_help=Labels(
        "complete, plus overdue when a deadline is set",
        "compleet, plus te laat als er een termijn is",
        "vollständig, plus überfällig bei einer Frist",
    ),
    enter=enter,
    resume=resume,
    check=check,
    waits=True,
    example={
        "title": "Documents for {{ vars.period | default('this period') }}",
        "items": [{"id": "bank_statement", "kind": "document", "label": "Bank statement"}],
        "subject": "Documents needed",
        "body": "Dear {{ subject.name }}, please send us the documents below.",
    },
    examples={
        "nl": {
            "title": "Stukken voor {{ vars.period | default('deze periode') }}",
            "items": [{"id": "bank_statement", "kind": "document", "label": "Bankafschrift"}],
            "subject": "Stukken nodig",
            "body": "Beste {{ subject.name }}, wilt u ons de onderstaande stukken sturen?",
        },
        "de": {
            "title": "Unterlagen für {{ vars.period | default('diesen Zeitraum') }}",
            "items": [{"id": "bank_statement", "kind": "document", "label": "Kontoauszug"}],
            "subject": "Unterlagen benötigt",
            "body": "Guten Tag {{ subject.name }}, bitte senden Sie uns die folgenden Unterlagen.",
        },
    },
)
