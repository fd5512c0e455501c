"""Hand over to the account manager (D2): an email to the debtor's account manager, naming
the customer handed over and what is open.

One email per account manager and run, to the address in the debtor's
`account_manager_email`: a scheduled run that hands over ten customers to one manager
sends one email listing the ten (procedo/messaging/handovers.py), a few minutes after
the run's last hand-over; a customer alone in it reads as the node's texts. Without
that address the flow leaves on `no_address`, so a task can follow instead.
"""

from typing import Annotated

import msgspec

from procedo.nodeforms import form
from procedo.nodes.email import EMAIL
from procedo.nodetypes import (
    CheckContext,
    Context,
    Decision,
    NodeType,
    ParamProblem,
    Params,
    Port,
    QueueEmail,
    go,
)
from procedo.subjects import Labels
from procedo.templates import check_template, render, render_header

FIELD = "account_manager_email"
TEXT_HELP = Labels(
    "May name fields: {{ subject.name }}, {{ subject.debt_amount }}.",
    "Mag velden noemen: {{ subject.name }}, {{ subject.debt_amount }}.",
    "Darf Felder nennen: {{ subject.name }}, {{ subject.debt_amount }}.",
)


class HandOverParams(Params, frozen=True):
    subject: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=500),
        form(Labels("Subject line", "Onderwerpregel", "Betreffzeile"), TEXT_HELP),
    ]
    body: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=20_000),
        form(
            Labels(
                "Message to the account manager",
                "Bericht aan de accountmanager",
                "Nachricht an den Kundenbetreuer",
            ),
            TEXT_HELP,
        ),
    ]


SENT = Port("sent", Labels(en="Handed over", nl="Overgedragen", de="Übergeben"))
NO_ADDRESS = Port(
    "no_address",
    Labels(en="No account manager", nl="Geen accountmanager", de="Kein Kundenbetreuer"),
)


def enter(params: HandOverParams, context: Context) -> Decision:
    address = context.subject.get(FIELD)
    if not isinstance(address, str) or not EMAIL.match(address):
        return go("no_address")
    values = {"subject": context.subject, "vars": context.variables}
    node = f"node '{context.node_id}'"
    message = QueueEmail(
        to=(address,),
        subject=render_header(params.subject, values, place=f"{node} $.subject"),
        body=render(params.body, values, html=True, place=f"{node} $.body"),
        digest=True,
    )
    return go("sent", message)


def check(params: HandOverParams, context: CheckContext) -> list[ParamProblem]:
    subject_type = context.subject_type
    problems: list[ParamProblem] = []
    if subject_type is not None and subject_type.field(FIELD) is None:
        problems.append(
            ParamProblem(
                code="hand_over.no_field",
                message=f"'{subject_type.name}' has no field '{FIELD}' to send to; "
                "use this node in debtor flows, or an email node",
            )
        )
    problems += check_template(params.subject, subject_type, "$.subject", header=True)
    return problems + check_template(params.body, subject_type, "$.body")


NODE = NodeType(
    type="hand_over",
    labels=Labels(
        en="Hand over to account manager",
        nl="Overdragen aan accountmanager",
        de="An Kundenbetreuer übergeben",
    ),
    description=Labels(
        en="Emails the customer's account manager that the customer is handed over to them; "
        "one email per manager lists a run's customers.",
        nl="Mailt de accountmanager van de klant dat de klant aan hem is overgedragen; "
        "één mail per accountmanager noemt de klanten van een ronde.",
        de="Schreibt dem Kundenbetreuer per E-Mail, dass ihm der Kunde übergeben wurde; "
        "eine E-Mail je Kundenbetreuer nennt die Kunden eines Laufs.",
    ),
    category="messages",
    params=HandOverParams,
    ports=lambda params: [SENT, NO_ADDRESS],
    ports_help=Labels(
        "handed over, or no account manager when the customer has no address for one",
        "overgedragen, of geen accountmanager als de klant daar geen adres voor heeft",
        "übergeben, oder kein Kundenbetreuer, wenn der Kunde keine Adresse dafür hat",
    ),
    enter=enter,
    check=check,
    example={
        "subject": "Handed over to you: {{ subject.name }}",
        "body": "{{ subject.name }} owes {{ subject.debt_amount }}; the oldest invoice is "
        "{{ subject.oldest_overdue_days }} days overdue after {{ subject.dunning_notices }} "
        "notices. Please contact the customer.",
    },
    examples={
        "nl": {
            "subject": "Aan u overgedragen: {{ subject.name }}",
            "body": "{{ subject.name }} is {{ subject.debt_amount }} verschuldigd; de oudste "
            "factuur is {{ subject.oldest_overdue_days }} dagen te laat na "
            "{{ subject.dunning_notices }} aanmaningen. Neem contact op met de klant.",
        },
        "de": {
            "subject": "Ihnen übergeben: {{ subject.name }}",
            "body": "{{ subject.name }} schuldet {{ subject.debt_amount }}; die älteste "
            "Rechnung ist {{ subject.oldest_overdue_days }} Tage überfällig nach "
            "{{ subject.dunning_notices }} Mahnungen. Bitte nehmen Sie Kontakt auf.",
        },
    },
)
