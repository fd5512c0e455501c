"""Start: where every instance begins."""

from procedo.nodetypes import NEXT, Context, Decision, NodeType, NoParams, go
from procedo.subjects import Labels


def enter(params: NoParams, context: Context) -> Decision:
    return go("next")


NODE = NodeType(
    type="start",
    labels=Labels(en="Start", nl="Start", de="Start"),
    description=Labels(
        en="Where the flow begins.",
        nl="Waar de flow begint.",
        de="Wo der Ablauf beginnt.",
    ),
    category="flow",
    params=NoParams,
    ports=lambda params: [NEXT],
    enter=enter,
)
