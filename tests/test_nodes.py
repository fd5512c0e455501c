"""The built-in node types' pure decisions: same inputs, same decision, no I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from procedo.nodetypes import (
    AwaitCondition,
    AwaitEvent,
    BranchArrived,
    Context,
    Decision,
    EscalateTask,
    EventReceived,
    Increment,
    OpenTask,
    QueueEmail,
    QueueLetter,
    Refused,
    SetField,
    SetStatus,
    StartTimer,
    SubjectChanged,
    TaskCompleted,
    TimerFired,
)
from procedo.registry import load_registry
from procedo.templates import TemplateError

AMS = ZoneInfo("Europe/Amsterdam")
# Friday 24 April 2026, 10:00 in Amsterdam; Monday 27 April is King's Day.
NOW = dt.datetime(2026, 4, 24, 10, 0, tzinfo=AMS)
REGISTRY = load_registry()


def context(subject: dict[str, Any] | None = None, **extra: Any) -> Context:
    return Context(node_id="n", subject=subject or {}, now=NOW, **extra)


def enter(type_name: str, params: dict[str, Any], ctx: Context) -> Decision:
    node_type = REGISTRY[type_name]
    return node_type.enter(node_type.parse_params(params), ctx)


def resume(type_name: str, params: dict[str, Any], ctx: Context, signal: Any) -> Decision:
    node_type = REGISTRY[type_name]
    assert node_type.resume is not None
    return node_type.resume(node_type.parse_params(params), ctx, signal)


def rule(field: str, op: str, kind: str, value: Any) -> dict[str, Any]:
    return {"kind": "compare", "field": field, "op": op, "value": {"type": kind, "value": value}}


ROUTING = {
    "branches": [
        {"port": "auto", "when": rule("subject.payable_amount", "<=", "decimal", "250")},
        {"port": "management_a", "when": rule("subject.supplier.kvk", "=", "string", "12345678")},
        {"port": "management_b", "when": rule("subject.supplier.kvk", "=", "string", "87654321")},
    ]
}


@pytest.mark.parametrize(
    ("subject", "port"),
    [
        ({"payable_amount": "99.95", "supplier": {"kvk": "12345678"}}, "auto"),
        ({"payable_amount": "1200.00", "supplier": {"kvk": "12345678"}}, "management_a"),
        ({"payable_amount": "1200.00", "supplier": {"kvk": "87654321"}}, "management_b"),
        ({"payable_amount": "1200.00", "supplier": {"kvk": "11111111"}}, "else"),
        ({"supplier": {}}, "else"),
    ],
)
def test_condition_takes_the_first_matching_branch(subject: dict[str, Any], port: str) -> None:
    assert enter("condition", ROUTING, context(subject)).port == port


TASK = {
    "title": "Approve {{ subject.invoice_number }}",
    "assignee": {"role": "Management A"},
    "outcomes": [{"port": "approve", "label": "Approve"}, {"port": "reject", "label": "Reject"}],
    "checkpoints": [
        {"id": "order", "label": "Matches the order", "mandatory": True},
        {"id": "note", "label": "Noted in the ledger"},
    ],
    "due": {"amount": 2, "unit": "business_days"},
}


def test_task_opens_with_a_due_time_in_business_days() -> None:
    decision = enter("assign_role", TASK, context({"invoice_number": "F-1"}))
    assert decision.wait
    assert decision.port is None
    task, timer = decision.effects
    assert isinstance(task, OpenTask)
    assert isinstance(timer, StartTimer)
    assert task.title == "Approve F-1"
    assert [c.id for c in task.checkpoints if c.mandatory] == ["order"]
    # Friday + 2 business days skips the weekend and King's Day (Monday 27 April).
    assert timer.at == dt.datetime(2026, 4, 29, 10, 0, tzinfo=AMS)
    assert task.due_at == timer.at


def test_task_completes_only_with_a_known_outcome_and_mandatory_checkpoints() -> None:
    ctx = context()
    with pytest.raises(Refused, match="Matches the order"):
        resume("assign_role", TASK, ctx, TaskCompleted("approve", frozenset({"note"})))
    with pytest.raises(Refused, match="unknown outcome 'maybe'"):
        resume("assign_role", TASK, ctx, TaskCompleted("maybe", frozenset({"order"})))
    done = resume("assign_role", TASK, ctx, TaskCompleted("reject", frozenset({"order"})))
    assert done == Decision(port="reject")


def test_overdue_fires_a_branch_while_the_task_stays_open() -> None:
    decision = resume("assign_role", TASK, context(), TimerFired("due"))
    assert decision.port == "overdue"
    assert decision.wait


def test_wait_for_a_duration_and_until_a_subject_date() -> None:
    (timer,) = enter(
        "wait",
        {"until": {"mode": "duration", "duration": {"amount": 1, "unit": "months"}}},
        context(),
    ).effects
    assert isinstance(timer, StartTimer)
    assert timer.at == dt.datetime(2026, 5, 24, 10, 0, tzinfo=AMS)
    dip = {
        "until": {
            "mode": "until_date",
            "field": "subject.oldest_due_date",
            "offset": {"amount": 7, "unit": "days"},
        }
    }
    (timer,) = enter("wait", dip, context({"oldest_due_date": "2026-04-20"})).effects
    assert isinstance(timer, StartTimer)
    assert timer.at == dt.datetime(2026, 4, 27, 9, 0, tzinfo=AMS)
    # A date already passed continues at once (a step missed during downtime).
    assert enter("wait", dip, context({"oldest_due_date": "2026-01-01"})).port == "next"


def test_wait_for_an_event_or_a_condition_with_timeout() -> None:
    params = {
        "until": {
            "mode": "event",
            "event": "payment.received",
            "timeout": {"amount": 5, "unit": "days"},
        }
    }
    decision = enter("wait", params, context())
    assert isinstance(decision.effects[0], AwaitEvent)
    assert isinstance(decision.effects[1], StartTimer)
    assert resume("wait", params, context(), EventReceived("payment.received")).port == "next"
    assert resume("wait", params, context(), EventReceived("invoice.disputed")).wait
    assert resume("wait", params, context(), TimerFired("timeout")).port == "timeout"
    paid = {"until": {"mode": "condition", "when": rule("subject.status", "=", "string", "paid")}}
    assert isinstance(
        enter("wait", paid, context({"status": "payable"})).effects[0], AwaitCondition
    )
    assert enter("wait", paid, context({"status": "paid"})).port == "next"
    assert resume("wait", paid, context({"status": "paid"}), SubjectChanged()).port == "next"


MAIL = {
    "to": {"kind": "field", "field": "subject.email"},
    "subject": "Invoice {{ subject.number }}",
    "body": "<p>{{ subject.name }}</p>",
}


def test_email_renders_escaped_and_goes_to_the_field() -> None:
    decision = enter(
        "email", MAIL, context({"email": "a@example.nl", "number": "7", "name": "<b>"})
    )
    (mail,) = decision.effects
    assert decision.port == "sent"
    assert mail == QueueEmail(to=("a@example.nl",), subject="Invoice 7", body="<p>&lt;b&gt;</p>")


def test_email_without_address_leaves_on_no_address() -> None:
    assert (
        enter("email", MAIL, context({"email": "", "number": "7", "name": "x"})).port
        == "no_address"
    )
    to_role = {**MAIL, "to": {"kind": "role", "role": "Accountant"}}
    ctx = context({"number": "7", "name": "x"}, roles={"Accountant": ["acc@example.nl"]})
    assert enter("email", to_role, ctx).effects[0].to == ("acc@example.nl",)  # type: ignore[union-attr]
    assert enter("email", to_role, context({"number": "7", "name": "x"})).port == "no_address"


def test_header_injection_and_missing_fields_are_refused() -> None:
    with pytest.raises(TemplateError, match="line breaks"):
        enter(
            "email",
            MAIL,
            context({"email": "a@example.nl", "number": "7\r\nBcc: x@evil", "name": ""}),
        )
    with pytest.raises(TemplateError, match=r"has no attribute .number."):
        enter("email", MAIL, context({"email": "a@example.nl", "name": ""}))


def test_template_sandbox_refuses_python_internals() -> None:
    evil = {**MAIL, "body": "{{ subject.__class__.__mro__[1].__subclasses__() }}"}
    with pytest.raises(TemplateError):
        enter("email", evil, context({"email": "a@example.nl", "number": "1"}))


def test_a_script_link_from_subject_data_leaves_the_email_body() -> None:
    # (subject.portal_url is Procedo's own link placeholder, never the data's: a field
    # the tenant fills is the way in for a hostile address.)
    linked = {**MAIL, "body": '<a href="{{ subject.homepage }}">Pay</a>'}
    ctx = context({"email": "a@example.nl", "number": "1", "homepage": " javascript:alert(1)"})
    (mail,) = enter("email", linked, ctx).effects
    assert mail.body == "<a>Pay</a>"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("type_name", "params", "place"),
    [
        ("email", {**MAIL, "body": "{{ subject.homepage }}"}, r"\$\.body"),
        ("letter", {"subject": "{{ subject.homepage }}", "body": "x"}, r"\$\.subject"),
        (
            "assign_role",
            {
                "title": "Call {{ subject.homepage }}",
                "assignee": {"role": "Collections"},
                "outcomes": [{"port": "done", "label": "Done"}],
            },
            r"\$\.title",
        ),
    ],
)
def test_template_errors_name_the_node_and_the_param(
    type_name: str, params: dict[str, Any], place: str
) -> None:
    with pytest.raises(TemplateError, match=rf"^node 'n' {place}: .*'homepage'"):
        enter(type_name, params, context({"email": "a@example.nl", "number": "1"}))


def test_status_change_effects() -> None:
    params = {
        "status": "rejected",
        "set": [{"field": "problematic", "value": {"type": "bool", "value": True}}],
        "increment": [{"field": "dunning_level"}],
    }
    decision = enter("status_change", params, context())
    assert decision.port == "next"
    assert decision.effects == (
        SetField("problematic", True),
        Increment("dunning_level", 1),
        SetStatus("rejected"),
    )


def test_letter_and_end() -> None:
    letter = {"subject": "Reminder", "body": "Dear {{ subject.name }}"}
    (queued,) = enter("letter", letter, context({"name": "Jansen"})).effects
    assert queued == QueueLetter(template="standard", subject="Reminder", body="Dear Jansen")
    assert enter("end", {"status": "paid"}, context()) == Decision(effects=(SetStatus("paid"),))


def test_escalate_reminds_then_reassigns_later() -> None:
    params = {
        "remind": True,
        "repeat_every": {"amount": 1, "unit": "days"},
        "reassign_to": {"role": "Deputy"},
        "reassign_after": {"amount": 3, "unit": "business_days"},
    }
    decision = enter("escalate", params, context())
    assert decision.wait
    remind, repeat, reassign = decision.effects
    assert remind == EscalateTask(remind=True, reassign_to=None)
    assert isinstance(repeat, StartTimer)
    assert repeat.purpose == "repeat"
    assert isinstance(reassign, StartTimer)
    assert reassign.purpose == "reassign"
    later = resume("escalate", params, context(), TimerFired("reassign"))
    (action,) = later.effects
    assert isinstance(action, EscalateTask)
    assert action.reassign_to is not None
    assert action.reassign_to.role == "Deputy"
    once = enter("escalate", {"reassign_to": {"user": "boss@example.nl"}}, context())
    assert not once.wait
    assert once.port is None


def test_join_waits_for_every_branch() -> None:
    assert resume("join", {}, context(), BranchArrived(1, 2)).wait
    assert resume("join", {}, context(), BranchArrived(2, 2)).port == "next"
