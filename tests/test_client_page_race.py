"""A client's post on the client page racing another step of the same run (PostgreSQL).

The client uploads while a step of its run (here: a reminder going out) holds the
instance and is about to write the same request. The post waits its turn and is
stored whole, and the step's write is kept too; before, the two deadlocked and the
client got a server error with nothing stored. A post that keeps losing its race
answers 409 asking to send again, and stores nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.clientpage import requests as client_requests
from procedo.db.client_requests import ClientRequest
from procedo.runtime.buffer import Conflict
from procedo.runtime.steps import lock_instance
from tests.api_helpers import office
from tests.test_client_requests import (
    PDF,
    csrf_of,
    instance,
    make_client,
    open_request,
    page_client,
    staff_link,
    start,
    stored_files,
    upload,
)


@pytest.fixture
def db_url(postgres_db: str) -> str:
    """Only PostgreSQL: SQLite runs one writer at a time, so nothing can interleave."""
    return postgres_db


def _waiting_on_a_lock(backend: Backend) -> bool:
    with backend.runtime.db.read() as session:
        waiting = session.scalar(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )
    return bool(waiting)


def test_an_upload_racing_a_step_of_its_run_is_stored_whole(
    backend: Backend, base_url: str, tmp_path: Path
) -> None:
    acme = office(backend.runtime, base_url, "Acme Race")
    client_id = make_client(acme)
    instance_id = start(acme, client_id)
    request = open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    page = page_client(base_url)
    csrf = csrf_of(page, token)
    rt = backend.runtime
    locked, answered = threading.Event(), threading.Event()
    results: dict[str, httpx.Response] = {}

    def step() -> None:
        """As a reminder's step: the instance locked first, then the request written."""
        with rt.transaction() as (session, _out):
            lock_instance(session, uuid.UUID(instance_id))
            locked.set()
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock(backend) and time.monotonic() < deadline:
                time.sleep(0.05)  # until the client's post waits for this transaction
            session.execute(
                sa.update(ClientRequest)
                .where(ClientRequest.id == uuid.UUID(request["id"]))
                .values(reminders=ClientRequest.reminders + 1)
            )

    def client_post() -> None:
        locked.wait(10)
        results["sent"] = upload(
            page, token, request["id"], {"bank_statement": ("nov.pdf", PDF)}, csrf=csrf
        )
        answered.set()

    threads = [threading.Thread(target=step), threading.Thread(target=client_post)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answered.is_set()
    assert results["sent"].status_code == 303, results["sent"].text
    with rt.db.read() as session:
        row = session.get(ClientRequest, uuid.UUID(request["id"]))
        assert row is not None
        assert (row.status, row.reminders) == ("complete", 1)  # both kept
    assert stored_files(backend) == 1
    assert instance(acme, instance_id)["positions"] == ["file"]


def test_a_post_that_keeps_losing_its_race_asks_to_send_again_and_stores_nothing(
    backend: Backend, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = office(backend.runtime, base_url, "Acme Busy")
    client_id = make_client(acme)
    instance_id = start(acme, client_id)
    request = open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    page = page_client(base_url)
    receive = client_requests.receive
    tries: list[int] = []

    def losing(*args: object, **kwargs: object) -> None:
        receive(*args, **kwargs)  # type: ignore[arg-type]  # stores, then loses the race
        tries.append(1)
        raise Conflict("someone else changed the run meanwhile")

    monkeypatch.setattr(client_requests, "receive", losing)
    sent = upload(page, token, request["id"], {"bank_statement": ("nov.pdf", PDF)})
    assert sent.status_code == 409
    assert "Wilt u het opnieuw versturen?" in sent.text  # the client's language: Dutch
    assert len(tries) == 3
    assert stored_files(backend) == 0
    assert open_request(acme, client_id, "documents")["id"] == request["id"]
    assert instance(acme, instance_id)["positions"] == ["ask"]
