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
    # The texts: from the tenant's library, or written here (subject and body).
    text_template: Annotated[
        str,
        msgspec.Meta(pattern=r"^([a-z][a-z0-9_-]{0,63})?$"),
        form(
            Labels("Text from the library", "Tekst uit de bibliotheek", "Text aus der Bibliothek"),
            Labels(
                "A template of the library, printed in the subject's language; "
                "or write subject line and text.",
                "Een sjabloon uit de bibliotheek, in de taal van het onderwerp; "
                "of schrijf zelf onderwerpregel en tekst.",
                "Eine Vorlage der Bibliothek, in der Sprache des Objekts; "
                "oder Betreffzeile und Text selbst schreiben.",
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
        form(
            Labels("Letter text", "Tekst van de brief", "Brieftext"),
            Labels(
                "May name fields: {{ subject.name }}.",
                "Mag velden noemen: {{ subject.name }}.",
                "Darf Felder nennen: {{ subject.name }}.",
            ),
        ),
    ] = ""
    # What the sent letter counts as in the subject's computed facts.
    mark: NoticeMark = ""


def enter(params: LetterParams, context: Context) -> Decision:
    if params.text_template:
        return go("next", from_library(params.template, params.text_template))
    if not params.subject or not params.body:  # check() refuses such a flow
        raise ValueError(f"node '{context.node_id}' has neither a template nor subject and body")
    # subject.portal_url: a short link, made (with its QR code) as the letter is drawn.
    values = message_values(context.subject, context.variables, "p")
    node = f"node '{context.node_id}'"
    letter = QueueLetter(
        template=params.template,
        subject=render_header(params.subject, values, place=f"{node} $.subject"),
        body=render(params.body, values, html=True, place=f"{node} $.body"),
    )
    return go("next", letter)


def from_library(paper: str, name: str) -> QueueLetter:
    """A letter printing template ``name`` of the library; its row says which until drawn."""
    return QueueLetter(template=paper, subject=f"(template {name})", body="", library=name)


def check(params: LetterParams, context: CheckContext) -> list[ParamProblem]:
    if params.text_template:
        if params.subject or params.body:
            return [
                ParamProblem(
                    code="letter.template_and_text",
                    message="name a template or write subject and text, not both: "
                    "the template's texts would be ignored or these",
                    path="$.text_template",
                )
            ]
        return []  # the library's checks need the tenant (messaging.library.flow_problems)
    missing = [name for name in ("subject", "body") if not getattr(params, name)]
    if missing:
        return [
            ParamProblem(
                code="letter.text.missing",
                message=f"write the {' and '.join(missing)}, or name a template of the library",
                path=f"$.{missing[0]}",
            )
        ]
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
