"""The engine: (flow version, instance state, event) -> (new state, effects). Pure.

It reads no clock (``now`` is an input), does no I/O and creates no ids of its
own (``new_id`` is an input), so a run can be replayed and tested against golden
traces under a fake clock. One call runs the instance from one set of wait
states to the next: instant nodes (condition, status change, email) pass within
the call, and only tokens resting at wait states (task, wait, join, escalate)
remain. The runtime turns the result into rows in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

import msgspec

from procedo.flow.validate import CheckedFlow, CheckedNode
from procedo.nodetypes import (
    AwaitCondition,
    AwaitEvent,
    BranchArrived,
    Context,
    Decision,
    Effect,
    Increment,
    Refused,
    SetField,
    SetStatus,
    Signal,
    SubjectChanged,
)
from procedo.rules.evaluate import evaluate
from procedo.rules.model import Rule
from procedo.rules.today import today_is
from procedo.workdays import WorkingDays

# A step that visits more nodes than this is a runaway loop, whatever validation said.
MAX_VISITS_PER_STEP = 10_000


class TokenState(msgspec.Struct, frozen=True, omit_defaults=True):
    """A position where the instance rests."""

    id: str
    node: str
    origin: str | None = None
    await_event: str | None = None
    await_condition: Rule | None = None
    arrived: int = 1


class State(msgspec.Struct, frozen=True):
    tokens: tuple[TokenState, ...] = ()
    variables: dict[str, Any] = {}


# --- Events the engine handles ------------------------------------------------------


class Start(msgspec.Struct, frozen=True, tag="start"):
    pass


class Resume(msgspec.Struct, frozen=True, tag="resume"):
    """A signal for one waiting token: a task completed, a timer fired, an event."""

    token: str
    signal: Signal


class SubjectUpdated(msgspec.Struct, frozen=True, tag="subject_updated"):
    """The subject changed elsewhere: re-check condition waits and the stop rule."""


class Move(msgspec.Struct, frozen=True, tag="move"):
    """An administrator moves a position (or the only one) to another node."""

    to_node: str
    reason: str
    token: str | None = None


class Cancel(msgspec.Struct, frozen=True, tag="cancel"):
    reason: str


EngineEvent: TypeAlias = Start | Resume | SubjectUpdated | Move | Cancel


# --- What the engine returns ------------------------------------------------------------


class Emitted(msgspec.Struct, frozen=True):
    """An effect, with the token it belongs to (None for instant nodes) and its branch's origin."""

    node: str
    effect: Effect
    token: str | None = None
    # For a branch spawned by a task's `overdue` port: that task's token.
    origin: str | None = None
    # Order among everything the step did (trail, changes, effects), for the history.
    seq: int = 0


class TrailEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing that happened during a step, for the history and golden traces."""

    kind: Literal["entered", "left", "waiting", "ended", "moved", "stopped", "cancelled"]
    node: str
    port: str | None = None
    to_node: str | None = None
    token: str | None = None
    seq: int = 0


class Change(msgspec.Struct, frozen=True):
    """A subject field set by a node (``status`` for the status)."""

    node: str
    field: str
    value: Any
    seq: int = 0


Outcome = Literal["waiting", "completed", "stopped", "cancelled"]


class Step(msgspec.Struct, frozen=True):
    state: State
    subject: dict[str, Any]
    changes: tuple[Change, ...]
    effects: tuple[Emitted, ...]
    trail: tuple[TrailEntry, ...]
    # Tokens that left during the step: their tasks and timers are cancelled.
    removed: tuple[str, ...]
    outcome: Outcome


class StaleEvent(Exception):
    """The event names a token that is no longer there (already handled): do nothing."""


class NodeFailed(Exception):
    """A node raised; the instance goes to `failed` and the step can be retried."""

    def __init__(self, node: str, error: BaseException) -> None:
        self.node = node
        self.error = error
        super().__init__(f"node '{node}' failed: {error}")


class BadEvent(ValueError):
    """An event that makes no sense for this flow (a move to an unknown node)."""


@dataclass(frozen=True)
class Compiled:
    """A checked flow plus the indexes the engine walks; built once per version."""

    checked: CheckedFlow

    @cached_property
    def start(self) -> str:
        return next(i for i, n in self.checked.nodes.items() if n.node_type.type == "start")

    @cached_property
    def targets(self) -> dict[tuple[str, str], list[str]]:
        found: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        for edge in self.checked.flow.edges:
            found[(edge.source, edge.source_port)].append(edge.target)
        return dict(found)

    @cached_property
    def incoming(self) -> dict[str, int]:
        counts: defaultdict[str, int] = defaultdict(int)
        for edge in self.checked.flow.edges:
            counts[edge.target] += 1
        return dict(counts)

    @cached_property
    def roles_needed(self) -> tuple[str, ...]:
        """Roles whose members' addresses decisions read (email to a role)."""
        needed: list[str] = []
        for node in self.checked.nodes.values():
            if node.node_type.roles is not None:
                needed.extend(node.node_type.roles(node.params))
        return tuple(sorted(set(needed)))

    def node(self, node_id: str) -> CheckedNode:
        return self.checked.nodes[node_id]


@dataclass(frozen=True)
class Inputs:
    flow: Compiled
    subject: Mapping[str, Any]
    now: dt.datetime
    new_id: Callable[[], str]
    roles: Mapping[str, Sequence[str]] = field(default_factory=dict)
    timezone: str = "Europe/Amsterdam"
    working_days: WorkingDays = field(default_factory=WorkingDays)


def run(inputs: Inputs, state: State, event: EngineEvent) -> Step:
    # A rule's ``today`` is the tenant's date at the step's moment (rules/today.py).
    with today_is(inputs.now.astimezone(ZoneInfo(inputs.timezone)).date()):
        return _Run(inputs, state).handle(event)


# --- The interpreter ----------------------------------------------------------------------


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b`` in nested dicts (a flat key ``a.b`` already there is kept flat)."""
    if dotted in target or "." not in dotted:
        target[dotted] = value
        return
    head, _, rest = dotted.partition(".")
    child = target.get(head)
    if not isinstance(child, dict):
        child = {}
    target[head] = child = dict(child)
    _set_path(child, rest, value)


def _get_path(source: Mapping[str, Any], dotted: str) -> Any:
    if dotted in source:
        return source[dotted]
    current: Any = source
    for part in dotted.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


class _Run:
    def __init__(self, inputs: Inputs, state: State) -> None:
        self.inputs = inputs
        self.flow = inputs.flow
        self.variables = dict(state.variables)
        self.subject = dict(inputs.subject)
        self.tokens: dict[str, TokenState] = {t.id: t for t in state.tokens}
        self.changes: list[Change] = []
        self.effects: list[Emitted] = []
        self.trail: list[TrailEntry] = []
        self.seq = 0
        self.removed: list[str] = []
        # Arrivals still to run: (node, origin token of the branch).
        self.queue: deque[tuple[str, str | None]] = deque()
        self.visits = 0
        self.outcome: Outcome | None = None

    # -- entry points

    def handle(self, event: EngineEvent) -> Step:
        if isinstance(event, Start):
            self.queue.append((self.flow.start, None))
        elif isinstance(event, Resume):
            self._resume(event)
        elif isinstance(event, Move):
            self._move(event)
        elif isinstance(event, Cancel):
            self._remove_all("cancelled")
            self.outcome = "cancelled"
        else:
            self._subject_updated()
        self._drain()
        return self._result()

    def _resume(self, event: Resume) -> None:
        token = self.tokens.get(event.token)
        if token is None:
            raise StaleEvent(f"token {event.token} is no longer waiting")
        node = self.flow.node(token.node)
        resume = node.node_type.resume
        if resume is None:
            raise StaleEvent(f"node '{token.node}' takes no signals")
        decision = self._decide(node, lambda ctx: resume(node.params, ctx, event.signal))
        self._apply(node, decision, token)

    def _move(self, event: Move) -> None:
        if event.to_node not in self.flow.checked.nodes:
            raise BadEvent(f"'{event.to_node}' is not a node of this flow version")
        if not event.reason.strip():
            raise BadEvent("a move needs a reason; it is kept in the history")
        if event.token is None:
            primary = [t for t in self.tokens.values() if t.origin is None]
            if len(primary) != 1:
                raise BadEvent(
                    f"the instance waits at {len(primary)} places; say which position to move"
                )
            token = primary[0]
        elif event.token not in self.tokens:
            raise StaleEvent(f"token {event.token} is no longer waiting")
        else:
            token = self.tokens[event.token]
        self._remove(token.id)
        self._trace("moved", token.node, to_node=event.to_node, token=token.id)
        self.queue.append((event.to_node, None))

    def _subject_updated(self) -> None:
        for token in list(self.tokens.values()):
            if token.await_condition is not None and token.id in self.tokens:
                self._resume(Resume(token.id, SubjectChanged()))

    # -- the walk

    def _context(self, node_id: str) -> Context:
        return Context(
            node_id=node_id,
            subject=self.subject,
            variables=self.variables,
            now=self.inputs.now,
            roles=self.inputs.roles,
            timezone=self.inputs.timezone,
            working_days=self.inputs.working_days,
        )

    def _decide(self, node: CheckedNode, decide: Callable[[Context], Decision]) -> Decision:
        try:
            return decide(self._context(node.node.id))
        except Refused:
            raise
        except Exception as exc:  # a node's own failure, kept for retry
            raise NodeFailed(node.node.id, exc) from exc

    def _drain(self) -> None:
        while self.queue:
            node_id, origin = self.queue.popleft()
            self.visits += 1
            if self.visits > MAX_VISITS_PER_STEP:
                raise NodeFailed(node_id, RuntimeError("the step ran in a loop without waiting"))
            self._arrive(node_id, origin)
        if (
            self.outcome is None
            and self.flow.checked.flow.stop_when is not None
            and evaluate(self.flow.checked.flow.stop_when, self.subject, self.variables)
        ):
            self._remove_all("stopped")
            self.outcome = "stopped"

    def _arrive(self, node_id: str, origin: str | None) -> None:
        node = self.flow.node(node_id)
        self._trace("entered", node_id)
        if node.node_type.type == "join":
            self._join(node, origin)
            return
        decision = self._decide(node, lambda ctx: node.node_type.enter(node.params, ctx))
        token = None
        if decision.wait:
            token = TokenState(id=self.inputs.new_id(), node=node_id, origin=origin)
        self._apply(node, decision, token, origin)

    def _join(self, node: CheckedNode, origin: str | None) -> None:
        waiting = next((t for t in self.tokens.values() if t.node == node.node.id), None)
        arrived = waiting.arrived + 1 if waiting else 1
        expected = self.flow.incoming.get(node.node.id, 1)
        token = TokenState(
            id=waiting.id if waiting else self.inputs.new_id(),
            node=node.node.id,
            origin=origin,
            arrived=arrived,
        )
        resume = node.node_type.resume
        assert resume is not None
        decision = self._decide(
            node, lambda ctx: resume(node.params, ctx, BranchArrived(arrived, expected))
        )
        self._apply(node, decision, token, origin)

    def _apply(
        self,
        node: CheckedNode,
        decision: Decision,
        token: TokenState | None,
        origin: str | None = None,
    ) -> None:
        node_id = node.node.id
        branch = token.origin if token is not None else origin
        for effect in decision.effects:
            self._effect(node_id, effect, token, branch)
        if decision.wait and token is not None:
            if token.id not in self.tokens:
                self._trace("waiting", node_id, token=token.id)
            self.tokens[token.id] = self._awaiting(token, decision.effects)
            if decision.port is not None:
                # A branch leaves while the node keeps waiting (a task's `overdue` port).
                self._follow(node_id, decision.port, origin=token.id)
            return
        branch_origin = origin
        if token is not None and token.id in self.tokens:
            branch_origin = token.origin
            self._remove(token.id)
        if decision.port is None:
            self._trace("ended", node_id)
            return
        self._follow(node_id, decision.port, branch_origin)

    def _follow(self, node_id: str, port: str, origin: str | None) -> None:
        self._trace("left", node_id, port=port)
        for target in self.flow.targets.get((node_id, port), ()):
            self.queue.append((target, origin))

    @staticmethod
    def _awaiting(token: TokenState, effects: Sequence[Effect]) -> TokenState:
        for effect in effects:
            if isinstance(effect, AwaitEvent):
                token = msgspec.structs.replace(token, await_event=effect.event)
            elif isinstance(effect, AwaitCondition):
                token = msgspec.structs.replace(token, await_condition=effect.rule)
        return token

    def _effect(
        self, node_id: str, effect: Effect, token: TokenState | None, origin: str | None
    ) -> None:
        if isinstance(effect, SetStatus):
            self.subject["status"] = effect.status
            self.changes.append(Change(node_id, "status", effect.status, self._next()))
        elif isinstance(effect, SetField):
            _set_path(self.subject, effect.field, effect.value)
            self.changes.append(Change(node_id, effect.field, effect.value, self._next()))
        elif isinstance(effect, Increment):
            current = _get_path(self.subject, effect.field)
            try:
                value = Decimal(str(current)) if current not in (None, "") else Decimal(0)
            except ArithmeticError:
                value = Decimal(0)
            new = value + effect.by
            result: int | str = int(new) if new == new.to_integral_value() else str(new)
            _set_path(self.subject, effect.field, result)
            self.changes.append(Change(node_id, effect.field, result, self._next()))
        if not isinstance(effect, AwaitEvent | AwaitCondition):
            token_id = token.id if token else None
            self.effects.append(Emitted(node_id, effect, token_id, origin, self._next()))

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _trace(
        self,
        kind: Literal["entered", "left", "waiting", "ended", "moved", "stopped", "cancelled"],
        node: str,
        port: str | None = None,
        to_node: str | None = None,
        token: str | None = None,
    ) -> None:
        self.trail.append(TrailEntry(kind, node, port, to_node, token, self._next()))

    # -- leaving

    def _remove(self, token_id: str) -> None:
        """Remove a token and every branch it spawned (escalations of its task)."""
        stack = [token_id]
        while stack:
            current = stack.pop()
            if self.tokens.pop(current, None) is not None:
                self.removed.append(current)
            stack.extend(t.id for t in self.tokens.values() if t.origin == current)

    def _remove_all(self, kind: Literal["stopped", "cancelled"]) -> None:
        for token in list(self.tokens.values()):
            if token.id in self.tokens:
                self._trace(kind, token.node, token=token.id)
                self._remove(token.id)
        self.queue.clear()

    def _result(self) -> Step:
        outcome: Outcome = self.outcome or ("waiting" if self.tokens else "completed")
        return Step(
            state=State(tokens=tuple(self.tokens.values()), variables=self.variables),
            subject=self.subject,
            changes=tuple(self.changes),
            effects=tuple(self.effects),
            trail=tuple(self.trail),
            removed=tuple(self.removed),
            outcome=outcome,
        )
