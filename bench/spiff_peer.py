"""The SpiffWorkflow side of the invoice-approval benchmark: the same flow as BPMN.

``invoice_approval.bpmn`` beside this file is parsed once (as a deployment caches
its specs); then every instance is durable after every wait state, the way a
SpiffWorkflow user persists workflows: ``BpmnWorkflowSerializer.serialize_json``
into a row of a SQLite table, one commit per save.

1. Pass one starts each invoice, runs engine steps until the workflow waits (the
   "Approve invoice" user task) or ends (amounts up to 250 are auto-approved), and
   saves it.
2. Pass two, like a person later, loads each waiting invoice, deserializes it,
   completes the user task with ``outcome = "approve"``, runs engine steps to the
   end and saves it again.

``python -m bench.spiff_peer [instances]`` runs it on its own (200 by default).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow import TaskState  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn import BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]

BPMN_FILE = Path(__file__).resolve().parent / "invoice_approval.bpmn"
PROCESS_ID = "invoice_approval"
APPROVAL_TASK = "Approve_invoice"  # the user task's BPMN id
END_APPROVED = "End_approved"
END_REJECTED = "End_rejected"
AUTO_APPROVED_AMOUNT = 120  # at most 250: no person involved
REVIEWED_AMOUNT = 1200  # over 250: waits for "Approve invoice"

# SpiffWorkflow is untyped: its objects are ``Any`` here, and every value taken
# out of them is converted to a typed one before it leaves a function.
Workflow = Any


@dataclass(frozen=True)
class SpiffResult:
    seconds: float
    instances: int
    approved: int
    rejected: int
    via_task: int

    @property
    def per_second(self) -> float:
        return self.instances / self.seconds


def load_spec() -> Any:
    """Parse and validate the BPMN file: the one-time deployment step, not timed."""
    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec(PROCESS_ID)


def connect(db_path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions, each save is an explicit
    # BEGIN ... COMMIT, so every commit below is one durable write.
    connection = sqlite3.connect(db_path, isolation_level=None)
    # The same settings as Procedo's SQLite engine (procedo/db/session.py):
    # WAL journal, synchronous=NORMAL (a commit is durable against a crash of the
    # process; fsync happens at checkpoints, not at every commit).
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("DROP TABLE IF EXISTS spiff_workflow")
    connection.execute(
        "CREATE TABLE spiff_workflow ("
        " id INTEGER PRIMARY KEY, state TEXT NOT NULL, status TEXT NOT NULL)"
    )
    return connection


def status_of(workflow: Workflow) -> str:
    """``waiting`` until the workflow ends, then the end event it reached."""
    if not workflow.is_completed():
        return "waiting"
    for end in (END_APPROVED, END_REJECTED):
        if workflow.get_tasks(state=TaskState.COMPLETED, spec_name=end):
            return "approved" if end == END_APPROVED else "rejected"
    raise RuntimeError("the workflow completed without reaching an end event")


def save(
    connection: sqlite3.Connection,
    serializer: Any,
    instance_id: int,
    workflow: Workflow,
) -> str:
    """Write the workflow's whole state in its own transaction; returns its status."""
    state = str(serializer.serialize_json(workflow))
    status = status_of(workflow)
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO spiff_workflow (id, state, status) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status",
        (instance_id, state, status),
    )
    connection.execute("COMMIT")
    return status


def load(connection: sqlite3.Connection, serializer: Any, instance_id: int) -> Workflow:
    row = connection.execute(
        "SELECT state FROM spiff_workflow WHERE id = ?", (instance_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"no workflow {instance_id}")
    return serializer.deserialize_json(row[0])


def start(spec: Any, amount: int) -> Workflow:
    """A new workflow, run until it waits or ends."""
    workflow = BpmnWorkflow(spec)
    # The root task is the workflow's start; every later task inherits its data,
    # so this is where the gateway's condition (``amount <= 250``) finds it.
    workflow.task_tree.set_data(amount=amount)
    workflow.do_engine_steps()
    return workflow


def approve(workflow: Workflow) -> None:
    """What the person does: fill in the user task's form and submit it."""
    task = workflow.get_next_task(state=TaskState.READY, spec_name=APPROVAL_TASK)
    if task is None:
        raise RuntimeError("the workflow is not waiting for 'Approve invoice'")
    task.set_data(outcome="approve")
    task.run()
    workflow.do_engine_steps()


def run_spiff(instances: int, db_path: Path) -> SpiffResult:
    """Run ``instances`` invoices (alternately 120 and 1200) through SpiffWorkflow."""
    spec = load_spec()

    started = time.perf_counter()
    serializer = BpmnWorkflowSerializer()
    connection = connect(db_path)
    try:
        waiting: list[int] = []
        for instance_id in range(instances):
            amount = AUTO_APPROVED_AMOUNT if instance_id % 2 == 0 else REVIEWED_AMOUNT
            workflow = start(spec, amount)
            if save(connection, serializer, instance_id, workflow) == "waiting":
                waiting.append(instance_id)

        for instance_id in waiting:
            workflow = load(connection, serializer, instance_id)
            approve(workflow)
            save(connection, serializer, instance_id, workflow)
        seconds = time.perf_counter() - started

        counts = dict(
            connection.execute(
                "SELECT status, COUNT(*) FROM spiff_workflow GROUP BY status"
            ).fetchall()
        )
        # Read back from what was stored, not from what was meant to be done.
        via_task = sum(
            1
            for (state,) in connection.execute("SELECT state FROM spiff_workflow")
            if serializer.deserialize_json(state).get_tasks(
                state=TaskState.COMPLETED, spec_name=APPROVAL_TASK
            )
        )
    finally:
        connection.close()
    return SpiffResult(
        seconds=seconds,
        instances=instances,
        approved=int(counts.get("approved", 0)),
        rejected=int(counts.get("rejected", 0)),
        via_task=via_task,
    )


def check(result: SpiffResult) -> None:
    """All invoices end approved, the larger half of them through the user task."""
    expected_via_task = result.instances // 2
    if (
        result.approved != result.instances
        or result.rejected != 0
        or result.via_task != expected_via_task
    ):
        raise RuntimeError(
            f"expected {result.instances} approved ({expected_via_task} via the task), got {result}"
        )


def main() -> None:
    instances = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as folder:
        result = run_spiff(instances, Path(folder) / "spiff.db")
    check(result)
    print(result)
    print(f"{result.per_second:.0f} instances/second")


if __name__ == "__main__":
    main()
