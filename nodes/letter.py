"""Letter: render a letter for print and post (dunning letters, or "letter when no email")."""

from typing import Annotated

import msgspec

from procedo.nodeforms import form
from procedo.nodetypes import (
    NEXT,
    CheckContext,
    Context,
    Decision,
    NodeType,
    NoticeMark,
    ParamProblem,
    Params,
    QueueLetter,
    go,
)
from procedo.portal.placeholders import message_values
from procedo.subjects import Labels
from procedo.templates import check_template, render, render_header


class LetterParams(Params, kw_only=True, frozen=True):
    template: Annotated[
        str,
        msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,63}$"),
        form(
            Labels("Layout", "Opmaak", "Layout"),
            Labels(
                "The letter paper it is printed on (standard).",
                "Het briefpapier waarop hij wordt geprint (standard).",
                "Das Briefpapier, auf das er gedruckt wird (standard).",
            ),
        ),
    ] = "standard"
    subject: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=500),
        form(Labels("Subject line", "Onderwerpregel", "Betreffzeile")),
    ]
    body: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=100_000),
        form(
            Labels("Letter text", "Tekst van de brief", "Brieftext"),
            Labels(
                "May name fields: {{ subject.name }}.",
                "Mag velden noemen: {{ subject.name }}.",
                "Darf Felder nennen: {{ subject.name }}.",
            ),
        ),
    ]
    # What the sent letter counts as in the subject's computed facts.
    mark: NoticeMark = ""


def enter(params: LetterParams, context: Context) -> Decision:
    # subject.portal_url: a short link, made (with its QR code) as the letter is drawn.
    values = message_values(context.subject, context.variables, "p")
    node = f"node '{context.node_id}'"
    letter = QueueLetter(
        template=params.template,
        subject=render_header(params.subject, values, place=f"{node} $.subject"),
        body=render(params.body, values, html=True, place=f"{node} $.body"),
    )
    return go("next", letter)


def check(params: LetterParams, context: CheckContext) -> list[ParamProblem]:
    return check_template(
        params.subject, context.subject_type, "$.subject", header=True
    ) + check_template(params.body, context.subject_type, "$.body")


NODE = NodeType(
    type="letter",
    labels=Labels(en="Send letter", nl="Brief versturen", de="Brief senden"),
    description=Labels(
        en="Prepares a letter from a template for print and post.",
        nl="Maakt een brief uit een sjabloon klaar om te printen en te versturen.",
        de="Erstellt einen Brief aus einer Vorlage zum Drucken und Versenden.",
    ),
    category="messages",
    params=LetterParams,
    ports=lambda params: [NEXT],
    enter=enter,
    check=check,
    example={"subject": "Reminder", "body": "Dear {{ subject.name }}, please pay."},
    examples={
        "nl": {"subject": "Herinnering", "body": "Beste {{ subject.name }}, graag betalen."},
        "de": {"subject": "Erinnerung", "body": "Guten Tag {{ subject.name }}, bitte zahlen Sie."},
    },
)
