"""Phases and checkpoints (K2) and automations on entering a phase (K3), over HTTP.

A phase opens a task for its role with checkpoints ticked one by one (who and when
kept, unticking too); completing it is refused while a mandatory one is open; an
automatic phase moves on by itself once every mandatory checkpoint is ticked and no
client request of its instance is open (re-checked on ``client_request.completed``).
"""

from __future__ import annotations

from typing import Any

import pytest

from procedo.api.server import Backend
from procedo.runtime import client_requests_gate
from tests.api_helpers import Office, office, ok
from tests.conftest import dumps
from tests.test_bulk_start import client, publish, running, wait_for


def phase_flow(advance: str = "by_hand") -> dict[str, Any]:
    return {
        "format": "procedo.flow/1",
        "key": "phased",
        "name": "Phased work",
        "subject_type": "client",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "prepare",
                "type": "phase",
                "params": {
                    "name": "Preparation",
                    "title": "Prepare {{ subject.name }}",
                    "role": "Administratie",
                    "advance": advance,
                    "checkpoints": [
                        {"id": "bank", "label": "Bank statements processed", "mandatory": True},
                        {"id": "cash", "label": "Cash book checked"},
                    ],
                    "on_enter": [
                        {
                            "kind": "message",
                            "to": {"kind": "field", "field": "subject.email"},
                            "subject": "Documents for {{ vars.period }}",
                            "body": "Dear {{ subject.name }}, please send your documents.",
                        },
                        {
                            "kind": "task",
                            "role": "Fiscaal",
                            "title": "Check the tax position of {{ subject.name }}",
                        },
                    ],
                },
            },
            {
                "id": "review",
                "type": "phase",
                "params": {"name": "Review", "role": "Accountant"},
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "prepare"},
            {"id": "e2", "source": "prepare", "source_port": "done", "target": "review"},
            {"id": "e3", "source": "review", "source_port": "done", "target": "end"},
        ],
    }


def _start(acme: Office, advance: str) -> tuple[dict[str, Any], dict[str, Any]]:
    publish(acme, phase_flow(advance))
    made = client(acme, "C-1", ["Aangifte BTW"], name="Studio Noord")
    ok(acme.http.patch(f"/subjects/{made['id']}", json={"fields": {"email": "sn@noord.example"}}))
    report = ok(
        acme.http.post(
            "/flows/phased/start-bulk", json={"subject_ids": [made["id"]], "period": "2026-11"}
        )
    )
    instance = running(acme, report["started"][0]["instance_id"])
    tasks = {t["node"] + ":" + (t["role"] or ""): t for t in instance["tasks"]}
    return instance, tasks


def _tick(acme: Office, task_id: str, checkpoint: str, ticked: bool = True) -> Any:
    return acme.http.post(
        f"/tasks/{task_id}/tick", json={"checkpoint": checkpoint, "ticked": ticked}
    )


def test_checkpoints_are_ticked_one_by_one_and_the_mandatory_one_blocks_completion(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    instance, tasks = _start(acme, "by_hand")
    phase = tasks["prepare:Administratie"]
    assert phase["title"] == "Prepare Studio Noord"
    assert [(c["id"], c.get("mandatory", False)) for c in phase["checkpoints"]] == [
        ("bank", True),
        ("cash", False),
    ]
    # The automations on entering: a task for Fiscaal, a message to the client.
    assert tasks["prepare:Fiscaal"]["title"] == "Check the tax position of Studio Noord"
    sent = ok(acme.http.get("/outbox", params={"instance_id": instance["id"]}))
    assert [(m["recipients"], m["subject"]) for m in sent] == [
        (["sn@noord.example"], "Documents for 2026-11")
    ]

    cash = ok(_tick(acme, phase["id"], "cash"))
    assert cash["ticked"] == ["cash"]
    assert cash["ticks"]["cash"]["by"] == acme.email
    assert cash["ticks"]["cash"]["at"]
    # The mandatory one is open: completing is refused, saying which.
    refused = acme.http.post(f"/tasks/{phase['id']}/complete", json={"outcome": "complete"})
    assert refused.status_code == 409, refused.text
    assert "Bank statements processed" in refused.json()["detail"]
    assert ok(acme.http.get(f"/tasks/{phase['id']}"))["status"] == "open"

    ok(_tick(acme, phase["id"], "bank"))
    unticked = ok(_tick(acme, phase["id"], "cash", ticked=False))
    assert unticked["ticked"] == ["bank"]
    assert "cash" not in unticked["ticks"]
    assert _tick(acme, phase["id"], "nope").status_code == 409

    done = ok(acme.http.post(f"/tasks/{phase['id']}/complete", json={"outcome": "complete"}))
    assert done["status"] == "completed"
    assert done["ticked"] == ["bank"]
    assert _tick(acme, phase["id"], "cash").status_code == 409  # closed: no more changes
    after = ok(acme.http.get(f"/instances/{instance['id']}"))
    assert after["positions"] == ["review"]
    # The automation's task belonged to the phase: it ended with it.
    assert ok(acme.http.get(f"/tasks/{tasks['prepare:Fiscaal']['id']}"))["status"] == "cancelled"

    history = ok(acme.http.get(f"/instances/{instance['id']}/history"))
    ticks = [
        (row["kind"], row["data"]["checkpoint"], row["actor"])
        for row in history
        if row["kind"].startswith("checkpoint_")
    ]
    assert ticks == [
        ("checkpoint_ticked", "cash", acme.email),
        ("checkpoint_ticked", "bank", acme.email),
        ("checkpoint_unticked", "cash", acme.email),
    ]


def test_an_automations_task_done_leaves_the_phase_waiting(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    instance, tasks = _start(acme, "by_hand")
    side, phase = tasks["prepare:Fiscaal"], tasks["prepare:Administratie"]
    # Each task completes only with its own button: the two wait at the same node.
    wrong = acme.http.post(f"/tasks/{phase['id']}/complete", json={"outcome": "task_done"})
    assert wrong.status_code == 409
    assert "choose one of complete" in wrong.json()["detail"]
    wrong = acme.http.post(f"/tasks/{side['id']}/complete", json={"outcome": "complete"})
    assert wrong.status_code == 409
    ok(acme.http.post(f"/tasks/{side['id']}/complete", json={"outcome": "task_done"}))
    after = ok(acme.http.get(f"/instances/{instance['id']}"))
    assert after["positions"] == ["prepare"]
    assert [t["node"] for t in after["tasks"] if t["status"] == "open"] == ["prepare"]


def test_an_automatic_phase_moves_on_once_mandatory_ticked_and_no_request_is_open(
    backend: Backend, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    open_requests = {"count": 1}
    monkeypatch.setattr(
        client_requests_gate, "open_client_requests", lambda _s, _i: open_requests["count"]
    )
    instance, tasks = _start(acme, "automatic")
    phase = tasks["prepare:Administratie"]
    ok(_tick(acme, phase["id"], "cash"))
    assert ok(acme.http.get(f"/instances/{instance['id']}"))["positions"] == ["prepare"]
    # Every mandatory checkpoint ticked, but a client request is still open: it waits.
    ok(_tick(acme, phase["id"], "bank"))
    assert ok(acme.http.get(f"/tasks/{phase['id']}"))["status"] == "open"

    # The request is done: its event makes the phase look again, and it moves on.
    open_requests["count"] = 0
    subject = instance["subject"]["id"]
    ok(
        acme.http.post(
            f"/subjects/{subject}/events",
            json={"name": "client_request.completed", "data": {"instance_id": instance["id"]}},
        ),
        202,
    )

    def moved() -> dict[str, Any] | None:
        got: dict[str, Any] = ok(acme.http.get(f"/instances/{instance['id']}"))
        return got if got["positions"] == ["review"] else None

    wait_for(moved, "the automatic phase to move on")
    closed = ok(acme.http.get(f"/tasks/{phase['id']}"))
    assert (closed["status"], closed["completed_by"]) == ("completed", "system")
    assert closed["ticked"] == ["bank", "cash"]
    # The automation's task was not taken for the phase's: it ended with the phase.
    side = ok(acme.http.get(f"/tasks/{tasks['prepare:Fiscaal']['id']}"))
    assert side["status"] == "cancelled"


def test_a_phase_message_naming_an_unknown_template_is_a_problem(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    flow = phase_flow()
    flow["nodes"][1]["params"]["on_enter"][0] = {
        "kind": "message",
        "to": {"kind": "field", "field": "subject.email"},
        "template": "documents-please",
    }
    answer = acme.http.post(
        "/flows/validate", content=dumps(flow), headers={"Content-Type": "application/json"}
    )
    (problem,) = ok(answer)["problems"]
    assert (problem["code"], problem["node"], problem["path"]) == (
        "template.unknown",
        "prepare",
        "$.on_enter[0].template",
    )
