"""The demo tenant's procedures: the standard worksheet procedure as the default primary
one, the dispute procedure as a secondary one, and a first pass that starts them."""

from __future__ import annotations

import logging
import uuid

import msgspec

from procedo.db.procedures import Procedure
from procedo.procedures.assign import reconcile
from procedo.runtime.context import NotFound, Refusal, Runtime

log = logging.getLogger(__name__)
DISPUTED: dict[str, object] = {
    "kind": "compare",
    "field": "subject.disputed_invoices",
    "op": ">",
    "value": {"type": "decimal", "value": "0"},
}


def set_up_procedures(rt: Runtime, tenant_id: uuid.UUID) -> None:
    with rt.transaction() as (session, _):
        session.add(
            Procedure(
                tenant_id=tenant_id,
                flow_key="collection-worksheet",
                kind="primary",
                is_default=True,
                updated_by="demo",
            )
        )
        session.add(
            Procedure(
                tenant_id=tenant_id,
                flow_key="dispute-procedure",
                kind="secondary",
                rule=msgspec.to_builtins(DISPUTED),
                updated_by="demo",
            )
        )
    try:
        done = reconcile(rt, tenant_id)
    except (NotFound, Refusal) as exc:  # an example not published: the demo starts anyway
        log.warning("demo procedures not started: %s", exc)
        return
    log.info("demo procedures: %d started", len(done.started))
