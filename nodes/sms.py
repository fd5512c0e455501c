"""SMS: render a short text over the subject and queue it in the outbox, to an E.164 number.

The number comes from a subject field (``subject.phone``) or is fixed; it is read
with ``phonenumbers`` in the tenant's country (``06 12345678`` in NL is
``+31612345678``) when it has no country code. A field without a number leaves on
``no_number`` (draw "SMS, or a letter"); a number that is not valid fails the step
with a message naming the node and the number, so nobody's SMS goes to a guess.
The outbox sends it once per step through the tenant's provider (docs/messages.md).
"""

import re
from typing import Annotated, TypeAlias

import msgspec

from procedo.messaging.sms import MAX_TEXT, PhoneError, normalise
from procedo.nodeforms import form
from procedo.nodetypes import (
    CheckContext,
    Context,
    Decision,
    NodeType,
    NoticeMark,
    ParamProblem,
    Params,
    Port,
    QueueSms,
    go,
)
from procedo.paths import MISSING, resolve
from procedo.portal.placeholders import message_values, sent_length
from procedo.rules.model import FieldPath
from procedo.subjects import Labels
from procedo.templates import check_template, render

# What a template prints besides its fields: the part of the text known when it is drawn.
_TEMPLATE_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
Number = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ()./-]{3,30}$")]


class _Recipient(Params, tag_field="kind", frozen=True):
    pass


class FieldNumber(_Recipient, tag="field", frozen=True):
    field: Annotated[
        FieldPath,
        form(
            Labels("Phone number field", "Veld met telefoonnummer", "Feld mit Telefonnummer"),
            picker="field_path",
            field_types=("string",),
        ),
    ]


class FixedNumber(_Recipient, tag="number", frozen=True):
    number: Annotated[
        Number,
        form(
            Labels("Phone number", "Telefoonnummer", "Telefonnummer"),
            Labels(
                "With country code (+31 6 ...), or a number of the tenant's country.",
                "Met landcode (+31 6 ...), of een nummer in het land van de organisatie.",
                "Mit Landesvorwahl (+49 ...), oder eine Nummer im Land der Organisation.",
            ),
        ),
    ]


Recipient: TypeAlias = FieldNumber | FixedNumber


class SmsParams(Params, frozen=True):
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
                ("number", Labels("A fixed number", "Een vast nummer", "Eine feste Nummer")),
            ),
        ),
    ]
    text: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=5000),
        form(
            Labels("Text", "Tekst", "Text"),
            Labels(
                "Plain text; may name fields: {{ subject.name }}.",
                "Platte tekst; mag velden noemen: {{ subject.name }}.",
                "Reiner Text; darf Felder nennen: {{ subject.name }}.",
            ),
        ),
    ]
    max_length: Annotated[
        int,
        msgspec.Meta(ge=1, le=MAX_TEXT),
        form(
            Labels("Longest text", "Langste tekst", "Längster Text"),
            Labels(
                "In characters; 160 is one SMS. A longer text fails the step.",
                "In tekens; 160 is één sms. Een langere tekst laat de stap mislukken.",
                "In Zeichen; 160 ist eine SMS. Ein längerer Text lässt den Schritt scheitern.",
            ),
        ),
    ] = 160
    # What the sent SMS counts as in the subject's computed facts.
    mark: NoticeMark = ""


SENT = Port("sent", Labels(en="Sent", nl="Verstuurd", de="Gesendet"))
NO_NUMBER = Port("no_number", Labels(en="No number", nl="Geen nummer", de="Keine Nummer"))


def ports(params: SmsParams) -> list[Port]:
    return [SENT] if isinstance(params.to, FixedNumber) else [SENT, NO_NUMBER]


def enter(params: SmsParams, context: Context) -> Decision:
    node = f"node '{context.node_id}'"
    if isinstance(params.to, FixedNumber):
        raw: object = params.to.number
    else:
        raw = resolve(context.subject, context.variables, params.to.field)
        if raw is MISSING or raw is None or (isinstance(raw, str) and not raw.strip()):
            return go("no_number")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)  # a number kept as digits by an import
    if not isinstance(raw, str):
        raise PhoneError(f"{node}: the phone number is not text ({type(raw).__name__})")
    try:
        number = normalise(raw, context.country)
    except PhoneError as exc:
        raise PhoneError(f"{node}: {exc}; correct the subject's number") from exc
    # subject.portal_url: a short link the outbox makes as the SMS leaves, counted as such.
    values = message_values(context.subject, context.variables, "p")
    text = render(params.text, values, html=False, place=f"{node} $.text").strip()
    length = sent_length(text)
    if length > params.max_length:
        raise ValueError(
            f"{node}: the text is {length} characters, the node allows {params.max_length} "
            "($.max_length): shorten the text or allow more"
        )
    return go("sent", QueueSms(to=number, text=text))


def check(params: SmsParams, context: CheckContext) -> list[ParamProblem]:
    problems = check_template(params.text, context.subject_type, "$.text")
    fixed = _TEMPLATE_TAGS.sub("", params.text).strip()
    if len(fixed) > params.max_length:
        problems.append(
            ParamProblem(
                code="sms.too_long",
                message=f"the text alone is {len(fixed)} characters, more than the "
                f"{params.max_length} allowed: shorten it or raise the longest text",
                path="$.text",
            )
        )
    # A number with its country code is checked now; a national one is read in the
    # tenant's country when the SMS is sent.
    if isinstance(params.to, FixedNumber) and params.to.number.startswith("+"):
        try:
            normalise(params.to.number, "")
        except PhoneError as exc:
            problems.append(
                ParamProblem(code="sms.number.invalid", message=str(exc), path="$.to.number")
            )
    return problems


NODE = NodeType(
    type="sms",
    labels=Labels(en="Send SMS", nl="Sms versturen", de="SMS senden"),
    description=Labels(
        en="Sends a short text message to a phone number of the subject or a fixed number.",
        nl="Verstuurt een sms naar een telefoonnummer van het onderwerp of een vast nummer.",
        de="Sendet eine SMS an eine Telefonnummer des Objekts oder eine feste Nummer.",
    ),
    category="messages",
    params=SmsParams,
    ports=ports,
    ports_help=Labels(
        "sent, plus no_number unless the number is fixed",
        "verstuurd, plus geen nummer tenzij het nummer vast is",
        "gesendet, plus keine Nummer, außer bei fester Nummer",
    ),
    enter=enter,
    check=check,
    example={
        "to": {"kind": "field", "field": "subject.phone"},
        "text": "Reminder: please pay the open amount. Thank you!",
    },
    examples={
        "nl": {
            "to": {"kind": "field", "field": "subject.phone"},
            "text": "Herinnering: graag het openstaande bedrag betalen. Dank u!",
        },
        "de": {
            "to": {"kind": "field", "field": "subject.phone"},
            "text": "Erinnerung: Bitte zahlen Sie den offenen Betrag. Danke!",
        },
    },
)
