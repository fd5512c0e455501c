from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from procedo.db.models import Base

if TYPE_CHECKING:
    from procedo.api.server import Backend

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


def minimal_flow(**changes: Any) -> dict[str, Any]:
    """start -> task (approve/reject) -> end: the smallest flow with a wait state."""
    flow: dict[str, Any] = {
        "format": "procedo.flow/1",
        "key": "minimal",
        "name": "Minimal",
        "subject_type": "invoice",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "task",
                "type": "assign_role",
                "params": {
                    "title": "Approve",
                    "assignee": {"role": "Accountant"},
                    "outcomes": [
                        {"port": "approve", "label": "Approve"},
                        {"port": "reject", "label": "Reject"},
                    ],
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "task"},
            {"id": "e2", "source": "task", "source_port": "approve", "target": "end"},
            {"id": "e3", "source": "task", "source_port": "reject", "target": "end"},
        ],
    }
    flow.update(changes)
    return flow


def dumps(flow: dict[str, Any]) -> bytes:
    return json.dumps(flow).encode()


@pytest.fixture
def example_files() -> list[Path]:
    files = sorted(EXAMPLES.glob("*.json"))
    assert files, "docs/examples holds no flows"
    return files


# --- Services: PostgreSQL and Redis -------------------------------------------------------
# Locally a missing service skips its tests with the reason; under CI=true it fails them.

POSTGRES_URL = os.environ.get(
    "PROCEDO_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PROCEDO_TEST_REDIS", "redis://127.0.0.1:6379/15")


def service_missing(name: str, url: str, error: BaseException) -> None:
    message = f"{name} not reachable at {url}: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped at the end of the session."""
    schema = f"procedo_test_{os.getpid()}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        service_missing("PostgreSQL", POSTGRES_URL, exc)
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis, emptied before and after the test (the broker of the distributed tests)."""
    import redis  # only the tests that need Redis pay for importing it

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis", REDIS_URL, exc)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each runtime test runs on the embedded SQLite (a file, as served) and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'procedo.db'}"
        return
    yield request.getfixturevalue("postgres_db")


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """The PostgreSQL test schema, emptied after the test."""
    yield postgres_url
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        connection.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture
def backend(db_url: str, tmp_path: Path) -> Iterator[Backend]:
    """The embedded mode (in-process workers and scheduler) on each database.

    Test modules that need another setup (one database, row-level security) define
    their own ``backend``.
    """
    from tests.api_helpers import embedded_backend

    with embedded_backend(db_url, tmp_path) as running:
        yield running


@pytest.fixture
def base_url(backend: Backend) -> Iterator[str]:
    """A real server on loopback for ``backend``."""
    from tests.api_helpers import live_server

    with live_server(backend.runtime) as url:
        yield url
