"""Condition: ordered branches, each a rule; the first that matches wins, else `else`.

One node routes on several values at once (E2, E3): KvK X to Management A,
KvK Y to Management B, anything else to the Accountant.
"""

from typing import Annotated

import msgspec

from procedo.nodeforms import form
from procedo.nodetypes import (
    CheckContext,
    Context,
    Decision,
    NodeType,
    ParamProblem,
    Params,
    Port,
    go,
)
from procedo.rules.check import check_rule
from procedo.rules.evaluate import evaluate
from procedo.rules.model import Rule
from procedo.subjects import Labels

PortId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$", title="Port")]


class Branch(Params, kw_only=True, frozen=True):
    port: Annotated[
        PortId,
        form(
            Labels("Port", "Uitgang", "Ausgang"),
            Labels(
                "Technical name of this way out (small_amount).",
                "Technische naam van deze uitgang (klein_bedrag).",
                "Technischer Name dieses Ausgangs (kleiner_betrag).",
            ),
        ),
    ]
    label: Annotated[
        str,
        msgspec.Meta(max_length=200),
        form(
            Labels("Label", "Label", "Beschriftung"),
            Labels(
                "What the canvas shows on this way out.",
                "Wat het canvas bij deze uitgang toont.",
                "Was die Fläche an diesem Ausgang zeigt.",
            ),
        ),
    ] = ""
    when: Annotated[Rule, form(Labels("When", "Als", "Wenn"))]


class ConditionParams(Params, frozen=True):
    branches: Annotated[
        list[Branch],
        msgspec.Meta(min_length=1, max_length=50),
        form(
            Labels("Branches", "Takken", "Zweige"),
            Labels(
                "Checked in order; the first that matches wins, else 'otherwise'.",
                "Op volgorde bekeken; de eerste die klopt wint, anders 'anders'.",
                "Der Reihe nach geprüft; der erste zutreffende gewinnt, sonst 'sonst'.",
            ),
        ),
    ]


ELSE = Port("else", Labels(en="Otherwise", nl="Anders", de="Sonst"))


def ports(params: ConditionParams) -> list[Port]:
    return [
        Port(b.port, Labels(en=b.label or b.port, nl=b.label or b.port, de=b.label or b.port))
        for b in params.branches
    ] + [ELSE]


def enter(params: ConditionParams, context: Context) -> Decision:
    for branch in params.branches:
        if evaluate(branch.when, context.subject, context.variables):
            return go(branch.port)
    return go("else")


def check(params: ConditionParams, context: CheckContext) -> list[ParamProblem]:
    problems = []
    seen: set[str] = set()
    for index, branch in enumerate(params.branches):
        path = f"$.branches[{index}]"
        if branch.port in seen or branch.port == "else":
            problems.append(
                ParamProblem(
                    code="condition.port.duplicate",
                    message=f"branch port '{branch.port}' is used twice (or is 'else'); rename it",
                    path=f"{path}.port",
                )
            )
        seen.add(branch.port)
        problems.extend(check_rule(branch.when, context.subject_type, f"{path}.when"))
    return problems


NODE = NodeType(
    type="condition",
    labels=Labels(en="Condition", nl="Voorwaarde", de="Bedingung"),
    description=Labels(
        en="Chooses the first branch whose rule matches the subject; otherwise 'else'.",
        nl="Kiest de eerste tak waarvan de regel klopt voor het onderwerp; anders 'anders'.",
        de="Wählt den ersten Zweig, dessen Regel auf das Objekt zutrifft; sonst 'sonst'.",
    ),
    category="logic",
    params=ConditionParams,
    ports=ports,
    ports_help=Labels(
        "one per branch, then else",
        "één per tak, dan anders",
        "einer pro Zweig, dann sonst",
    ),
    enter=enter,
    check=check,
    example={
        "branches": [
            {
                "port": "small",
                "when": {
                    "kind": "compare",
                    "field": "subject.payable_amount",
                    "op": "<=",
                    "value": {"type": "decimal", "value": "500"},
                },
            }
        ]
    },
)
