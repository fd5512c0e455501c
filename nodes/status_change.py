"""Status change: set the subject's status and fields, increment counters (dunning level)."""

from typing import Annotated

import msgspec

from procedo.nodeforms import form
from procedo.nodetypes import (
    NEXT,
    CheckContext,
    Context,
    Decision,
    Effect,
    Increment,
    NodeType,
    ParamProblem,
    Params,
    SetField,
    SetStatus,
    go,
)
from procedo.rules.check import check_rule
from procedo.rules.model import Compare, ScalarValue
from procedo.subjects import FieldName, Labels

Status = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


# The kinds of value a field can be set to, as the type choice reads them.
VALUE_TYPES = (
    ("decimal", Labels("Number", "Getal", "Zahl")),
    ("date", Labels("Date", "Datum", "Datum")),
    ("datetime", Labels("Date and time", "Datum en tijd", "Datum und Uhrzeit")),
    ("today", Labels("Today (± days)", "Vandaag (± dagen)", "Heute (± Tage)")),
    ("string", Labels("Text", "Tekst", "Text")),
    ("bool", Labels("Yes or no", "Ja of nee", "Ja oder nein")),
)


class FieldValue(Params, frozen=True):
    field: Annotated[FieldName, form(Labels("Field", "Veld", "Feld"), picker="field")]
    value: Annotated[
        ScalarValue, form(Labels("New value", "Nieuwe waarde", "Neuer Wert"), options=VALUE_TYPES)
    ]


class Counter(Params, frozen=True):
    field: Annotated[
        FieldName,
        form(
            Labels("Counter", "Teller", "Zähler"),
            picker="field",
            field_types=("integer", "decimal"),
        ),
    ]
    by: Annotated[
        int,
        msgspec.Meta(ge=-1000, le=1000),
        form(
            Labels("Add", "Optellen", "Addieren"),
            Labels("Negative subtracts.", "Negatief trekt af.", "Negativ zieht ab."),
        ),
    ] = 1


class StatusChangeParams(Params, frozen=True):
    status: Annotated[
        Status | None,
        form(Labels("New status", "Nieuwe status", "Neuer Status"), picker="status"),
    ] = None
    set: Annotated[
        list[FieldValue],
        msgspec.Meta(max_length=50),
        form(Labels("Set fields", "Velden invullen", "Felder setzen")),
    ] = []
    increment: Annotated[
        list[Counter],
        msgspec.Meta(max_length=50),
        form(
            Labels("Raise counters", "Tellers verhogen", "Zähler erhöhen"),
            Labels(
                "Such as the dunning level.",
                "Zoals het aanmaningsniveau.",
                "Wie die Mahnstufe.",
            ),
        ),
    ] = []


def enter(params: StatusChangeParams, context: Context) -> Decision:
    effects: list[Effect] = [SetField(item.field, item.value.value) for item in params.set]
    effects += [Increment(counter.field, counter.by) for counter in params.increment]
    if params.status:
        effects.append(SetStatus(params.status))
    return go("next", *effects)


def check(params: StatusChangeParams, context: CheckContext) -> list[ParamProblem]:
    if not (params.status or params.set or params.increment):
        return [
            ParamProblem(
                code="status_change.empty",
                message="set a status, a field or a counter; otherwise delete this node",
            )
        ]
    problems: list[ParamProblem] = []
    subject_type = context.subject_type
    for index, item in enumerate(params.set):
        # A field assignment must fit the field exactly as an equality rule would.
        compare = Compare(field=f"subject.{item.field}", op="=", value=item.value)
        problems += check_rule(compare, subject_type, f"$.set[{index}]")
    for index, counter in enumerate(params.increment):
        field = subject_type.field(counter.field) if subject_type else None
        if subject_type is not None and (field is None or field.type not in ("integer", "decimal")):
            problems.append(
                ParamProblem(
                    code="status_change.counter.invalid",
                    message=f"'{counter.field}' is not a number field of '{subject_type.name}'",
                    path=f"$.increment[{index}].field",
                )
            )
    statuses = subject_type.statuses if subject_type else []
    if params.status and statuses and params.status not in statuses:
        problems.append(
            ParamProblem(
                code="status_change.status.unknown",
                message=f"'{params.status}' is not a status of this subject type; "
                f"use one of {', '.join(statuses)}",
                path="$.status",
            )
        )
    return problems


NODE = NodeType(
    type="status_change",
    labels=Labels(en="Change status", nl="Status wijzigen", de="Status ändern"),
    description=Labels(
        en="Sets the subject's status and fields, and raises counters such as the dunning level.",
        nl="Zet de status en velden van het onderwerp en verhoogt tellers zoals het aanmaanniveau.",
        de="Setzt Status und Felder des Objekts und erhöht Zähler wie die Mahnstufe.",
    ),
    category="data",
    params=StatusChangeParams,
    ports=lambda params: [NEXT],
    enter=enter,
    check=check,
    example={"status": "approved"},
)
