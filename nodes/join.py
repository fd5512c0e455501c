"""Join: waits until every incoming branch has arrived, then continues once."""

from procedo.nodetypes import (
    NEXT,
    BranchArrived,
    Context,
    Decision,
    NodeType,
    NoParams,
    Signal,
    go,
    wait,
)
from procedo.subjects import Labels


def enter(params: NoParams, context: Context) -> Decision:
    return wait()


def resume(params: NoParams, context: Context, signal: Signal) -> Decision:
    if isinstance(signal, BranchArrived) and signal.arrived >= signal.expected:
        return go("next")
    return wait()


NODE = NodeType(
    type="join",
    labels=Labels(en="Join", nl="Samenvoegen", de="Zusammenführen"),
    description=Labels(
        en="Waits for all parallel branches that lead here, then continues once.",
        nl="Wacht tot alle parallelle takken hier zijn aangekomen en gaat dan één keer verder.",
        de="Wartet, bis alle parallelen Zweige angekommen sind, und läuft dann einmal weiter.",
    ),
    category="flow",
    params=NoParams,
    ports=lambda params: [NEXT],
    enter=enter,
    resume=resume,
    waits=True,
)
