"""File return: put a return to the client (K4), then submit it through the filing provider.

Settings: on whose behalf it is filed (a role, the Relatiebeheerder by default), the
mode, the contact and the message. `approval` and `signature`: the client approves
or declines on the client page, with a reason (who and when kept); the node
continues on `approved` (after the submission) or `declined`. `information`: the
client gets the message, and it is filed at once; `automatic`: filed at once, no
message. The submission calls the filing provider (procedo.clientpage.filing);
the one that ships is a stub: the SBR submission to the tax office is out of scope.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from procedo.durations import Duration
from procedo.nodeforms import form
from procedo.nodes.client_request import (
    CONTACT,
    DEADLINE,
    MESSAGE,
    MESSAGE_HELP,
    OVERDUE,
    REMINDER,
    SUBJECT_LINE,
    TITLE,
    Contact,
    PrimaryContact,
    check_subject,
    check_texts,
    contact_of,
    language_of,
    texts,
    timers,
    waiting,
)
from procedo.nodetypes import (
    CheckContext,
    ClientRequestAction,
    Context,
    Decision,
    NodeType,
    ParamProblem,
    Params,
    Port,
    Signal,
    go,
    wait,
)
from procedo.subjects import Labels

Mode = Literal["automatic", "approval", "signature", "information"]
ASKS: tuple[str, ...] = ("approval", "signature")


class FileReturnParams(Params, frozen=True, kw_only=True):
    title: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=200),
        form(
            TITLE,
            Labels(
                "The return as the client reads it: VAT return {{ vars.period }}.",
                "De aangifte zoals de klant die leest: btw-aangifte {{ vars.period }}.",
                "Die Erklärung, wie der Mandant sie liest: USt-Voranmeldung {{ vars.period }}.",
            ),
        ),
    ]
    on_behalf_of: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=100),
        form(
            Labels("On whose behalf", "Namens wie", "In wessen Namen"),
            Labels(
                "The role that files it for the client.",
                "De rol die de aangifte voor de klant indient.",
                "Die Rolle, die für den Mandanten einreicht.",
            ),
            picker="role",
        ),
    ] = "Relatiebeheerder"
    mode: Annotated[
        Mode,
        form(
            Labels("To the client", "Naar de klant", "An den Mandanten"),
            options=(
                (
                    "automatic",
                    Labels(
                        "Automatic (no message)",
                        "Automatisch (geen bericht)",
                        "Automatisch (keine Nachricht)",
                    ),
                ),
                ("approval", Labels("For approval", "Ter goedkeuring", "Zur Freigabe")),
                ("signature", Labels("For signature", "Ter ondertekening", "Zur Unterschrift")),
                ("information", Labels("For information", "Ter informatie", "Zur Information")),
            ),
        ),
    ] = "approval"
    to: Annotated[Contact, CONTACT] = PrimaryContact()
    subject: Annotated[
        str, msgspec.Meta(min_length=1, max_length=500), form(SUBJECT_LINE, MESSAGE_HELP)
    ]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000), form(MESSAGE, MESSAGE_HELP)]
    reminder_days: Annotated[int, msgspec.Meta(ge=0, le=60), REMINDER] = 3
    deadline: Annotated[Duration | None, DEADLINE] = None


APPROVED = Port("approved", Labels(en="Approved", nl="Goedgekeurd", de="Freigegeben"))
DECLINED = Port("declined", Labels(en="Declined", nl="Afgewezen", de="Abgelehnt"))
FILED = Port("filed", Labels(en="Filed", nl="Ingediend", de="Eingereicht"))
DECISIONS = {"client_request.approved": "approved", "client_request.declined": "declined"}


def ports(params: FileReturnParams) -> list[Port]:
    if params.mode not in ASKS:
        return [FILED]
    return [APPROVED, DECLINED, OVERDUE] if params.deadline is not None else [APPROVED, DECLINED]


def enter(params: FileReturnParams, context: Context) -> Decision:
    asks = params.mode in ASKS
    email, name = ("", "") if params.mode == "automatic" else contact_of(params.to, context)
    title, subject, body = texts(params.title, params.subject, params.body, context)
    started, due = timers(params.reminder_days, params.deadline, context) if asks else ((), None)
    put = ClientRequestAction(
        action="open",
        kind="filing",
        title=title,
        contact_email=email,
        contact_name=name,
        language=language_of(context),
        subject=subject,
        body=body,
        mode=params.mode,
        on_behalf_of=params.on_behalf_of,
        reminder_days=params.reminder_days if asks else 0,
        deadline_at=due,
    )
    if not asks:
        return go("filed", put, ClientRequestAction(action="submit"))
    return wait(put, *started)


def resume(params: FileReturnParams, context: Context, signal: Signal) -> Decision:
    decision = waiting(signal, params.reminder_days, context, DECISIONS)
    if decision.port == "approved":
        return go("approved", ClientRequestAction(action="submit"))
    return decision


def check(params: FileReturnParams, context: CheckContext) -> list[ParamProblem]:
    problems = check_subject(context)
    if params.deadline is not None and params.mode not in ASKS:
        problems.append(
            ParamProblem(
                code="file_return.deadline.unused",
                message=f"mode '{params.mode}' does not wait for the client, so a deadline "
                "never passes; remove it or choose approval or signature",
                path="$.deadline",
            )
        )
    return problems + check_texts(params.title, params.subject, params.body, context)


NODE = NodeType(
    type="file_return",
    labels=Labels(en="File return", nl="Aangifte indienen", de="Erklärung einreichen"),
    description=Labels(
        en="Puts a return to the client for approval, signature or information, then "
        "submits it through the filing provider (a stub: SBR is not included).",
        nl="Legt een aangifte aan de klant voor ter goedkeuring, ondertekening of "
        "informatie, en dient haar dan in via de indieningskoppeling (een stub: SBR zit er "
        "niet in).",
        de="Legt dem Mandanten eine Erklärung zur Freigabe, Unterschrift oder Information "
        "vor und reicht sie dann über die Einreichungsschnittstelle ein (ein Platzhalter: "
        "SBR ist nicht enthalten).",
    ),
    category="messages",
    params=FileReturnParams,
    ports=ports,
    ports_help=Labels(
        "approved and declined (plus overdue with a deadline) when the client is asked; "
        "filed otherwise",
        "goedgekeurd en afgewezen (plus te laat met een termijn) als de klant wordt gevraagd; "
        "anders ingediend",
        "freigegeben und abgelehnt (plus überfällig mit Frist), wenn der Mandant gefragt "
        "wird; sonst eingereicht",
    ),
    enter=enter,
    resume=resume,
    check=check,
    waits=True,
    example={
        "title": "VAT return {{ vars.period | default('') }}",
        "subject": "Your VAT return for approval",
        "body": "Dear {{ subject.name }}, please approve your VAT return.",
    },
    examples={
        "nl": {
            "title": "Btw-aangifte {{ vars.period | default('') }}",
            "subject": "Uw btw-aangifte ter goedkeuring",
            "body": "Beste {{ subject.name }}, wilt u uw btw-aangifte goedkeuren?",
        },
        "de": {
            "title": "USt-Voranmeldung {{ vars.period | default('') }}",
            "subject": "Ihre USt-Voranmeldung zur Freigabe",
            "body": "Guten Tag {{ subject.name }}, bitte geben Sie Ihre USt-Voranmeldung frei.",
        },
    },
)
