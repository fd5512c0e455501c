"""Mark problematic: set the debtor's `problematic` flag (D2), so dunning workflows leave
it alone (D6-D8 select only customers that are not problematic).

The same as a status change setting the field, as one choice in the palette: the
history keeps it as a field change, with the flow and node that set it.
"""

from typing import Annotated

from procedo.nodeforms import form
from procedo.nodetypes import (
    NEXT,
    CheckContext,
    Context,
    Decision,
    NodeType,
    ParamProblem,
    Params,
    SetField,
    go,
)
from procedo.subjects import Labels

FIELD = "problematic"


class MarkProblematicParams(Params, frozen=True):
    problematic: Annotated[
        bool,
        form(
            Labels("Problematic", "Problematisch", "Problematisch"),
            Labels(
                "Untick to take the mark away again.",
                "Vink uit om de markering weer weg te halen.",
                "Abwählen, um die Markierung wieder zu entfernen.",
            ),
        ),
    ] = True


def enter(params: MarkProblematicParams, context: Context) -> Decision:
    return go("next", SetField(FIELD, params.problematic))


def check(params: MarkProblematicParams, context: CheckContext) -> list[ParamProblem]:
    subject_type = context.subject_type
    if subject_type is None:
        return []
    field = subject_type.field(FIELD)
    if field is None or field.type != "bool":
        return [
            ParamProblem(
                code="mark_problematic.no_field",
                message=f"'{subject_type.name}' has no yes/no field 'problematic'; "
                "use this node in debtor flows, or a status change",
            )
        ]
    return []


NODE = NodeType(
    type="mark_problematic",
    labels=Labels(
        en="Mark customer problematic",
        nl="Klant als problematisch markeren",
        de="Kunde als problematisch markieren",
    ),
    description=Labels(
        en="Sets the customer's 'problematic' flag; dunning workflows then leave it alone.",
        nl="Zet de markering 'problematisch' bij de klant; aanmaanflows slaan hem dan over.",
        de="Setzt die Markierung 'problematisch' beim Kunden; Mahn-Workflows lassen ihn aus.",
    ),
    category="data",
    params=MarkProblematicParams,
    ports=lambda params: [NEXT],
    enter=enter,
    check=check,
    example={"problematic": True},
    examples={"nl": {"problematic": True}, "de": {"problematic": True}},
)
