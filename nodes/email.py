"""Email: render a template over the subject and queue it in the outbox.

The recipient comes from a subject field, a role's members, or a fixed address.
If a field or role yields no address, the flow leaves on `no_address`, so
"email, or a letter when the customer has no email address" is drawable (D2).

The texts are either in the node (`subject` and `body`) or a template of the
tenant's library named by `template` (D2 "E-Mail Vorlage", docs/messages.md):
the outbox renders that one, in the subject's language, as the message leaves.
That the tenant has it, with fields the subject type has, is checked when the
flow is validated or published (procedo.messaging.library.flow_problems).

With ``attach: invoice_document`` the message carries the invoice document of the
open item the starting event names (``vars.event.document``, M4 copy request); when
the system has none the flow leaves on ``no_document`` (a task for an employee).
"""

import re
from collections.abc import Mapping
from typing import Annotated, Literal, TypeAlias

import msgspec

from procedo.mail import safe_links
from procedo.messaging.attachments import check_size
from procedo.nodeforms import form
from procedo.nodes.letter import from_library
from procedo.nodetypes import (
    CheckContext,
    Context,
    Decision,
    NodeType,
    NoticeMark,
    ParamProblem,
    Params,
    Port,
    QueueEmail,
    QueueLetter,
    go,
)
from procedo.paths import resolve
from procedo.portal.placeholders import message_values
from procedo.rules.model import FieldPath
from procedo.subjects import Labels
from procedo.templates import check_template, render, render_header

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Address = Annotated[str, msgspec.Meta(pattern=EMAIL.pattern, max_length=254)]


class _Recipient(Params, tag_field="kind", frozen=True):
    pass


class FieldRecipient(_Recipient, tag="field", frozen=True):
    field: Annotated[
        FieldPath,
        form(
            Labels("Address field", "Adresveld", "Adressfeld"),
            picker="field_path",
            field_types=("email", "list", "string"),
        ),
    ]


class RoleRecipient(_Recipient, tag="role", frozen=True):
    role: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=100),
        form(Labels("Role", "Rol", "Rolle"), picker="role"),
    ]


class AddressRecipient(_Recipient, tag="address", frozen=True):
    address: Annotated[Address, form(Labels("Email address", "E-mailadres", "E-Mail-Adresse"))]


Recipient: TypeAlias = FieldRecipient | RoleRecipient | AddressRecipient

TEXT_HELP = Labels(
    "Leave empty when a template is chosen; may name fields: {{ subject.name }}.",
    "Leeg laten bij een sjabloon; mag velden noemen: {{ subject.name }}.",
    "Leer lassen bei einer Vorlage; darf Felder nennen: {{ subject.name }}.",
)


class EmailParams(Params, frozen=True):
    to: Annotated[
        Recipient,
        form(
            Labels("To", "Aan", "An"),
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
    ]
    # Inline texts; or, instead of both, the name of a template of the tenant's library.
    # Empty means "not given" (plain texts with defaults keep the designer's form simple).
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
        form(Labels("Subject line", "Onderwerpregel", "Betreffzeile"), TEXT_HELP),
    ] = ""
    body: Annotated[
        str,
        msgspec.Meta(max_length=100_000),
        form(Labels("Message", "Bericht", "Nachricht"), TEXT_HELP),
    ] = ""
    # What the sent message counts as in the subject's computed facts.
    mark: NoticeMark = ""
    # D2 "email, or letter when the customer has no email address", as one node.
    letter_when_no_address: Annotated[
        str,
        msgspec.Meta(pattern=r"^([a-z][a-z0-9_-]{0,63})?$"),
        form(
            Labels(
                "Letter when there is no address",
                "Brief als er geen adres is",
                "Brief, wenn keine Adresse da ist",
            ),
            Labels(
                "Name the letter paper (standard): without an email address the same "
                "subject and message go by post, and count as the email would.",
                "Noem het briefpapier (standard): zonder e-mailadres gaan hetzelfde "
                "onderwerp en bericht per post, en tellen zoals de e-mail zou tellen.",
                "Briefpapier nennen (standard): ohne E-Mail-Adresse gehen Betreff und "
                "Nachricht per Post und zählen wie die E-Mail.",
            ),
        ),
    ] = ""
    attach: Annotated[
        Literal["", "invoice_document"],
        form(
            Labels("Attachment", "Bijlage", "Anhang"),
            Labels(
                "The invoice document of the item the starting event names (a copy request); "
                "without one the flow leaves on 'no document'.",
                "Het factuurdocument van de post die de startgebeurtenis noemt (een "
                "kopieverzoek); zonder document gaat de flow verder via 'geen document'.",
                "Das Rechnungsdokument des Postens, den das Startereignis nennt (eine "
                "Kopieanforderung); ohne Dokument geht der Ablauf über 'kein Dokument' weiter.",
            ),
            options=(
                ("", Labels("None", "Geen", "Keiner")),
                (
                    "invoice_document",
                    Labels("The invoice document", "Het factuurdocument", "Das Rechnungsdokument"),
                ),
            ),
        ),
    ] = ""


SENT = Port("sent", Labels(en="Sent", nl="Verstuurd", de="Gesendet"))
NO_ADDRESS = Port("no_address", Labels(en="No address", nl="Geen adres", de="Keine Adresse"))
NO_DOCUMENT = Port("no_document", Labels(en="No document", nl="Geen document", de="Kein Dokument"))


def ports(params: EmailParams) -> list[Port]:
    fixed = isinstance(params.to, AddressRecipient) or params.letter_when_no_address
    found = [SENT] if fixed else [SENT, NO_ADDRESS]
    return [*found, NO_DOCUMENT] if params.attach else found


def _document(params: EmailParams, context: Context) -> str | None:
    """The open item whose document goes along, "" for none asked, None: none on file."""
    if not params.attach:
        return ""
    event = context.variables.get("event")
    document = event.get("document") if isinstance(event, Mapping) else None
    if not isinstance(document, Mapping) or not document.get("open_item_id"):
        return None
    check_size(document, context.node_id)
    return str(document["open_item_id"])


def recipients(params: EmailParams, context: Context) -> tuple[str, ...]:
    return recipients_of(params.to, context)


def recipients_of(to: Recipient, context: Context) -> tuple[str, ...]:
    """The addresses ``to`` names for this subject (a phase's messages read them so too)."""
    if isinstance(to, AddressRecipient):
        found: list[object] = [to.address]
    elif isinstance(to, RoleRecipient):
        found = list(context.roles.get(to.role, ()))
    else:
        value = resolve(context.subject, context.variables, to.field)
        found = value if isinstance(value, list) else [value]
    return tuple(a for a in found if isinstance(a, str) and EMAIL.match(a))


def enter(params: EmailParams, context: Context) -> Decision:
    to = recipients(params, context)
    if not to and params.letter_when_no_address:
        return go("sent", _letter(params, context))
    if not to:
        return go("no_address")
    attach_item = _document(params, context)
    if attach_item is None:
        return go("no_document")
    if params.template:
        # Rendered by the outbox from the tenant's library; the row says which until then.
        named = f"(template {params.template})"
        queued = QueueEmail(
            to=to, subject=named, body="", template=params.template, attach_item=attach_item
        )
        return go("sent", queued)
    if not params.subject or not params.body:  # check() refuses such a flow
        raise ValueError(f"node '{context.node_id}' has neither a template nor subject and body")
    # subject.portal_url: a placeholder the outbox makes a link as the email leaves.
    values = message_values(context.subject, context.variables)
    node = f"node '{context.node_id}'"
    message = QueueEmail(
        to=to,
        subject=render_header(params.subject, values, place=f"{node} $.subject"),
        # Links from subject data may only lead to web, mail or phone addresses.
        body=safe_links(render(params.body, values, html=True, place=f"{node} $.body")),
        attach_item=attach_item,
    )
    return go("sent", message)


def _letter(params: EmailParams, context: Context) -> QueueLetter:
    """The email's subject and message as a letter, for a subject without an address."""
    if params.template:
        return from_library(params.letter_when_no_address, params.template)
    values = message_values(context.subject, context.variables, "p")  # a short link on paper
    node = f"node '{context.node_id}'"
    return QueueLetter(
        template=params.letter_when_no_address,
        subject=render_header(params.subject, values, place=f"{node} $.subject"),
        body=render(params.body, values, html=True, place=f"{node} $.body"),
    )


def check(params: EmailParams, context: CheckContext) -> list[ParamProblem]:
    if params.template:
        if params.subject or params.body:
            return [
                ParamProblem(
                    code="email.template_and_text",
                    message="name a template or write subject and body, not both: "
                    "the template's texts would be ignored or these",
                    path="$.template",
                )
            ]
        return []  # the library's checks need the tenant (messaging.library.flow_problems)
    missing = [name for name in ("subject", "body") if not getattr(params, name)]
    if missing:
        return [
            ParamProblem(
                code="email.text.missing",
                message=f"write the {' and '.join(missing)}, or name a template of the library",
                path=f"$.{missing[0]}",
            )
        ]
    return check_template(
        params.subject, context.subject_type, "$.subject", header=True
    ) + check_template(params.body, context.subject_type, "$.body")


NODE = NodeType(
    type="email",
    labels=Labels(en="Send email", nl="E-mail versturen", de="E-Mail senden"),
    description=Labels(
        en="Sends an email from a template to a subject field, a role or a fixed address.",
        nl="Verstuurt een e-mail uit een sjabloon naar een veld, een rol of een vast adres.",
        de="Sendet eine E-Mail aus einer Vorlage an ein Feld, eine Rolle oder eine feste Adresse.",
    ),
    category="messages",
    params=EmailParams,
    ports=ports,
    ports_help=Labels(
        "sent, plus no_address unless the address is fixed or a letter stands in, plus "
        "no_document with an attachment",
        "verstuurd, plus geen adres tenzij het adres vast is of een brief het vervangt, plus "
        "geen document bij een bijlage",
        "gesendet, plus keine Adresse, außer bei fester Adresse oder Brief statt E-Mail, plus "
        "kein Dokument bei Anhang",
    ),
    enter=enter,
    check=check,
    roles=lambda params: [params.to.role] if isinstance(params.to, RoleRecipient) else [],
    example={
        "to": {"kind": "address", "address": "finance@example.com"},
        "subject": "Invoice {{ subject.invoice_number }} rejected",
        "body": "The invoice was rejected.",
    },
    examples={
        "nl": {
            "to": {"kind": "address", "address": "finance@example.com"},
            "subject": "Factuur {{ subject.invoice_number }} afgewezen",
            "body": "De factuur is afgewezen.",
        },
        "de": {
            "to": {"kind": "address", "address": "finance@example.com"},
            "subject": "Rechnung {{ subject.invoice_number }} abgelehnt",
            "body": "Die Rechnung wurde abgelehnt.",
        },
    },
)
