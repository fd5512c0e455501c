"""End: the instance (or this branch of it) is done, with an optional result."""

from typing import Annotated

import msgspec

from procedo.nodeforms import form
from procedo.nodetypes import Context, Decision, NodeType, Params, SetStatus
from procedo.subjects import Labels


class EndParams(Params, frozen=True):
    status: Annotated[
        str,
        msgspec.Meta(max_length=64),
        form(
            Labels("Final status", "Eindstatus", "Endstatus"),
            Labels(
                "The subject's status when the flow ends here; empty leaves it as it is.",
                "De status van het onderwerp als de flow hier eindigt; leeg laat hem zoals hij is.",
                "Der Status des Objekts, wenn der Ablauf hier endet; leer lässt ihn, wie er ist.",
            ),
            picker="status",
        ),
    ] = ""


def enter(params: EndParams, context: Context) -> Decision:
    effects = (SetStatus(params.status),) if params.status else ()
    return Decision(port=None, effects=effects)


NODE = NodeType(
    type="end",
    labels=Labels(en="End", nl="Einde", de="Ende"),
    description=Labels(
        en="The flow is finished; optionally sets the subject's final status.",
        nl="De flow is klaar; zet eventueel de eindstatus van het onderwerp.",
        de="Der Ablauf ist beendet; setzt optional den Endstatus des Objekts.",
    ),
    category="flow",
    params=EndParams,
    ports=lambda params: [],
    enter=enter,
    terminal=True,
)
