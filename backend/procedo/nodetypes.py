"""The node-type contract: what one module in ``nodes/`` declares.

A node type is one self-describing object: its name, labels in en/nl/de, a
category, a msgspec parameter Struct (which validates flows on save and in the
worker, and whose JSON Schema renders the designer's form), its output ports,
and pure decision functions. Pure means: everything a decision needs arrives in
the ``Context`` (subject, variables, the engine's clock reading, resolved role
members); the decision returns a port to continue on and the effects to apply.
The engine (and only the engine) turns effects into rows and messages.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeAlias, TypeVar

import msgspec

from procedo.nodeforms import for_forms, form, untitled_params
from procedo.rules.model import Rule, Value
from procedo.subjects import Labels, SubjectType
from procedo.workdays import WorkingDays

Category = Literal["flow", "logic", "people", "time", "messages", "data"]
CATEGORIES: tuple[str, ...] = ("flow", "logic", "people", "time", "messages", "data")

PortName = str


class Params(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """Base class of every node type's parameter Struct."""


class NoParams(Params, frozen=True):
    pass


class Port(msgspec.Struct, frozen=True, omit_defaults=True):
    name: PortName
    label: Labels
    # An optional port may stay unconnected (an `overdue` port nobody escalates).
    optional: bool = False


# --- What a decision sees -------------------------------------------------------------


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a decision function may read. Built by the engine; never I/O."""

    node_id: str
    subject: Mapping[str, Any]
    variables: Mapping[str, Any] = {}
    now: dt.datetime
    # Member email addresses per role, already resolved for this subject.
    roles: Mapping[str, Sequence[str]] = {}
    timezone: str = "Europe/Amsterdam"
    # The office's working days (its country's holidays, its closing days).
    working_days: WorkingDays = WorkingDays()

    @property
    def country(self) -> str:
        return self.working_days.country


# --- Signals that resume a waiting node ----------------------------------------------


class TaskCompleted(msgspec.Struct, frozen=True, tag="task_completed"):
    outcome: str
    checkpoints: frozenset[str] = frozenset()
    by: str = ""


class TimerFired(msgspec.Struct, frozen=True, tag="timer_fired"):
    purpose: str


class EventReceived(msgspec.Struct, frozen=True, tag="event_received"):
    event: str
    data: Mapping[str, Any] = {}


class SubjectChanged(msgspec.Struct, frozen=True, tag="subject_changed"):
    pass


class BranchArrived(msgspec.Struct, frozen=True, tag="branch_arrived"):
    """A join hears that one more incoming branch reached it."""

    arrived: int
    expected: int


Signal: TypeAlias = TaskCompleted | TimerFired | EventReceived | SubjectChanged | BranchArrived


# --- Effects a decision asks for --------------------------------------------------------


class SetStatus(msgspec.Struct, frozen=True, tag="set_status"):
    status: str


class SetField(msgspec.Struct, frozen=True, tag="set_field"):
    field: str
    value: Any


class Increment(msgspec.Struct, frozen=True, tag="increment"):
    field: str
    by: int = 1


# What a sent message counts as in the subject's computed facts (docs/receivables.md):
# only notices a workflow sent raise the dunning level (D3). Email, letter and SMS nodes.
NoticeMark = Annotated[
    Literal["", "dunning_notice"],
    form(
        Labels("Counts as", "Telt als", "Zählt als"),
        Labels(
            "A dunning notice counts in the debtor's number of dunning notices "
            "(only notices sent by a workflow count).",
            "Een aanmaning telt mee in het aantal aanmaningen van de debiteur "
            "(alleen door een workflow verstuurde tellen).",
            "Eine Mahnung zählt zur Anzahl der Mahnungen des Debitors "
            "(nur von einem Workflow versandte zählen).",
        ),
        options=(
            ("", Labels("Nothing special", "Niets bijzonders", "Nichts Besonderes")),
            ("dunning_notice", Labels("Dunning notice", "Aanmaning", "Mahnung")),
        ),
    ),
]


class Assignee(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Who holds a task: a role (resolved per subject) or one user."""

    role: Annotated[
        str,
        form(
            Labels("Role", "Rol", "Rolle"),
            Labels(
                "Everyone in this role (for the subject) may do it.",
                "Iedereen met deze rol (voor het onderwerp) mag het doen.",
                "Jede Person in dieser Rolle (für das Objekt) darf es erledigen.",
            ),
            picker="role",
        ),
    ] = ""
    user: Annotated[
        str,
        form(
            Labels("Or one user", "Of één gebruiker", "Oder ein Benutzer"),
            Labels(
                "Instead of a role: this person only.",
                "In plaats van een rol: alleen deze persoon.",
                "Statt einer Rolle: nur diese Person.",
            ),
            picker="user",
        ),
    ] = ""

    def describe(self) -> str:
        return f"role {self.role}" if self.role else f"user {self.user}"


class TaskCheckpoint(msgspec.Struct, frozen=True):
    id: str
    label: str
    mandatory: bool = False


class TaskOutcome(msgspec.Struct, frozen=True):
    """A way to complete a task: the port it continues on, and the button's text."""

    port: str
    label: str


class OpenTask(msgspec.Struct, frozen=True, tag="open_task"):
    title: str
    instructions: str
    assignee: Assignee
    outcomes: tuple[TaskOutcome, ...]
    checkpoints: tuple[TaskCheckpoint, ...]
    due_at: dt.datetime | None
    # general, phone_call, lawyer_handover, approval: kept on the task (D2, D4).
    kind: str = "general"


class QueueEmail(msgspec.Struct, frozen=True, tag="queue_email"):
    to: tuple[str, ...]
    subject: str
    body: str
    # A template of the tenant's library, rendered by the outbox as the message leaves
    # (procedo.messaging.library); subject and body then only say which.
    template: str = ""
    # An open item whose invoice document the outbox attaches (messaging/attachments.py).
    attach_item: str = ""
    # Collected with the recipient's other hand-overs of the run into one email
    # (messaging/handovers.py) instead of leaving alone.
    digest: bool = False


class QueueLetter(msgspec.Struct, frozen=True, tag="queue_letter"):
    template: str  # the letter paper
    subject: str
    body: str
    # A template of the tenant's library whose texts the letter prints instead, in the
    # subject's language, rendered when it is drawn (as an email's is when it leaves).
    library: str = ""


class QueueSms(msgspec.Struct, frozen=True, tag="queue_sms"):
    to: str  # E.164, normalised by the node
    text: str


class StartTimer(msgspec.Struct, frozen=True, tag="start_timer"):
    at: dt.datetime
    purpose: str


class AwaitEvent(msgspec.Struct, frozen=True, tag="await_event"):
    event: str


class AwaitCondition(msgspec.Struct, frozen=True, tag="await_condition"):
    rule: Rule


class EscalateTask(msgspec.Struct, frozen=True, tag="escalate_task"):
    """Act on the open task whose `overdue` port led here: remind its holder, reassign it."""

    remind: bool
    reassign_to: Assignee | None = None


class RequestItem(msgspec.Struct, frozen=True):
    """One thing asked of a client: a document to upload or a field to fill."""

    id: str
    kind: Literal["document", "field"]
    label: str
    mandatory: bool = True


class ClientRequestAction(msgspec.Struct, frozen=True, tag="client_request"):
    """Ask the client (open: a request and an email with a link to the client page), remind
    them, or submit the return they approved (procedo.clientpage.requests, K3 and K4)."""

    action: Literal["open", "remind", "overdue", "submit"]
    kind: Literal["documents", "filing"] = "documents"
    title: str = ""
    items: tuple[RequestItem, ...] = ()
    contact_email: str = ""
    contact_name: str = ""
    language: str = "nl"
    subject: str = ""
    body: str = ""
    mode: str = ""
    on_behalf_of: str = ""
    reminder_days: int = 0
    deadline_at: dt.datetime | None = None


Effect: TypeAlias = (
    SetStatus
    | SetField
    | Increment
    | OpenTask
    | QueueEmail
    | QueueLetter
    | QueueSms
    | StartTimer
    | AwaitEvent
    | AwaitCondition
    | EscalateTask
    | ClientRequestAction
)


class Decision(msgspec.Struct, frozen=True):
    """Continue on ``port`` (or on no port: the branch ends) or wait for a signal."""

    port: PortName | None = None
    wait: bool = False
    effects: tuple[Effect, ...] = ()


def go(port: PortName, *effects: Effect) -> Decision:
    return Decision(port=port, effects=effects)


def wait(*effects: Effect) -> Decision:
    return Decision(wait=True, effects=effects)


# --- Checks on save beyond the Struct ---------------------------------------------------


class ParamProblem(msgspec.Struct, frozen=True, omit_defaults=True):
    """A problem in one node's params; ``path`` is a JSON path inside the params."""

    code: str
    message: str
    path: str = "$"


@dataclass(frozen=True)
class CheckContext:
    subject_type: SubjectType | None


# --- The declaration ------------------------------------------------------------------

P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class NodeType(Generic[P]):
    type: str
    labels: Labels
    description: Labels
    category: Category
    params: builtins.type[P]
    ports: Callable[[P], Sequence[Port]]
    enter: Callable[[P, Context], Decision]
    resume: Callable[[P, Context, Signal], Decision] | None = None
    check: Callable[[P, CheckContext], Sequence[ParamProblem]] | None = None
    # A wait state: the instance rests here between steps (task, wait, join), so a
    # cycle through it is not a busy loop.
    waits: bool = False
    # A branch may end here without reaching an `end` node (end, escalate).
    terminal: bool = False
    # Node types whose input may only come from named ports (escalate: `overdue`).
    input_ports: frozenset[str] | None = None
    # Roles whose members' addresses a decision reads from Context.roles (email to a role).
    roles: Callable[[P], Sequence[str]] | None = None
    # How ports follow from params, for the catalogue ("one per outcome, plus overdue").
    ports_help: Labels | None = None
    example: Mapping[str, Any] = field(default_factory=dict)
    # The example in Dutch and German ("nl", "de"): a node added from the palette starts
    # with texts (outcomes, titles) in its designer's language. Same params otherwise.
    examples: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def parse_params(self, raw: Mapping[str, Any]) -> P:
        """Validate raw JSON params; raises msgspec.ValidationError with a JSON path."""
        return msgspec.convert(raw, self.params)

    def json_schema(self) -> dict[str, Any]:
        """The params' JSON Schema with their form titles, help, options and pickers."""
        return for_forms(msgspec.json.schema(self.params))

    def untitled_params(self) -> list[str]:
        """Params without titles in en, nl and de (``Def.param``); the registry refuses them."""
        return list(untitled_params(self.json_schema(), skip=RULE_DEFINITIONS))


# The rule tree and its typed values have a widget of their own (the rule builder, the
# value's type choice): their properties are never a form's fields one by one.
RULE_DEFINITIONS: frozenset[str] = frozenset(
    name for t in (Rule, Value) for name in msgspec.json.schema(t)["$defs"]
)


# Port labels used by several node types.
NEXT = Port("next", Labels(en="Next", nl="Volgende", de="Weiter"))


class Refused(ValueError):
    """A signal the node will not accept (an unknown outcome, a mandatory checkpoint open)."""


def check_assignee(assignee: Assignee, path: str) -> list[ParamProblem]:
    if bool(assignee.role) == bool(assignee.user):
        return [
            ParamProblem(
                code="assignee.invalid",
                message="name either a role or a user (an email address), not both or neither",
                path=path,
            )
        ]
    return []
