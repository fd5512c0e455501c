"""schemathesis against the served OpenAPI: no 5xx, and answers match the documented schemas.

Two runs: every operation on its own (examples, coverage and fuzzing phases), and a
stateful run that chains operations through the links schemathesis infers (a subject
created, then started, its task claimed, ...) on a tenant with the demo's flows. The
stateful run acts with one admin token and leaves out the operations that end
credentials, so it cannot lock itself out; the test checks the token still works.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from procedo.api import accounts, demo
from procedo.api.app import create_app
from procedo.api.openapi import openapi_document
from procedo.api.server import Backend
from tests.api_helpers import embedded_backend, live_server

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# The coverage phase tries every branch of a schema: for the recursive rule tree of
# /rules/match that is tens of thousands of requests. Fuzzing still covers it.
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {"include-path": "/api/v1/rules/match", "phases": {"coverage": {"enabled": False}}}
        ]
    }
)
# Flow documents are left out: generating documents of the flow format's schema is far too
# slow for hypothesis, and their decoder has its own tests (every invalid example, limits).
FLOW_FILES = r"^/api/v1/flows(/validate|/import|/\{key\}/draft)?$"
# What would end the run's own credentials: revoking a token (the run lists its own),
# changing the password (which revokes every token of the user), an admin's reset of it,
# and changing a user (the run lists itself: deactivated or demoted once it made another
# admin).
REVOKING = [
    ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/auth/password"),
    ("POST", "/api/v1/users/{user_id}/password-reset"),
    ("PATCH", "/api/v1/users/{user_id}"),
]


@schemathesis.serializer("application/pdf")
def _pdf(_context: Any, value: Any) -> bytes:
    """Bytes for a "PDF" (any bytes: the upload stores what is not an invoice as such)."""
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else repr(value)).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    backend: Backend
    with embedded_backend(f"sqlite:///{folder / 'procedo.db'}", folder) as backend:
        made = accounts.create_tenant(backend.runtime, "Fuzz Office", "admin@fuzz.example")
        with live_server(backend.runtime) as url:
            yield url, made.token


# The document the server serves at /schema/openapi.json (the route table needs no runtime).
schema = schemathesis.openapi.from_dict(
    openapi_document(create_app(rt=None)),  # type: ignore[arg-type]
    config=CONFIG,
).exclude(path_regex=FLOW_FILES, method=["POST", "PUT"])


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_server_errors_and_documented_answers(case: Any, served: tuple[str, str]) -> None:
    url, token = served
    case.call_and_validate(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )


stateful_schema = schema
for _method, _path in REVOKING:
    stateful_schema = stateful_schema.exclude(method=_method, path=_path)


# Bounded for CI: scenarios of up to 10 calls, until 400 calls or 90 seconds.
STATEFUL_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=10,
    deadline=None,
    # Generation only: the server's state moves on, so a replay to shrink a failure would
    # not see the same answers.
    phases=[Phase.generate],
    database=None,
    suppress_health_check=list(HealthCheck),
)
STATEFUL_STEPS = 400
STATEFUL_MIN_STEPS = 100
STATEFUL_SECONDS = 90


class Workflows(stateful_schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls on the demo tenant, as its admin, with a token the run cannot end."""

    base_url: ClassVar[str] = ""
    token: ClassVar[str] = ""
    # What the checks found, by operation and first line. Collected, not raised: hypothesis
    # replays a failing scenario, and the server's state has moved on by then (it would
    # report a "flaky strategy" instead of the failure).
    found: ClassVar[dict[str, str]] = {}

    steps: ClassVar[int] = 0

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"base_url": self.base_url, "headers": {"Authorization": f"Bearer {self.token}"}}

    def after_call(self, response: Any, case: Any) -> None:
        type(self).steps += 1

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        try:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)
        except Exception as failure:  # schemathesis's FailureGroup, one per response
            text = str(failure).strip()
            key = f"{case.operation.label} -> {response.status_code}: {text.splitlines()[0]}"
            self.found.setdefault(key, f"{text}\n{case.as_curl_command()}")


@pytest.fixture(scope="module")
def demo_office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with the demo tenant (flows published, subjects, roles) and its admin's token."""
    folder: Path = tmp_path_factory.mktemp("stateful")
    backend: Backend
    with embedded_backend(f"sqlite:///{folder / 'procedo.db'}", folder) as backend:
        rt = backend.runtime
        login = demo.ensure_demo(rt)
        signed_in = accounts.log_in(rt, login.tenant, login.email, login.password)
        assert signed_in is not None
        _row, token = accounts.create_token(
            rt, signed_in.tenant.id, signed_in.user.id, "schemathesis"
        )
        with live_server(rt) as url:
            yield url, token


def test_stateful_workflows_find_nothing(demo_office: tuple[str, str]) -> None:
    url, token = demo_office
    Workflows.base_url, Workflows.token = url, token
    Workflows.found.clear()
    Workflows.steps = 0
    deadline = time.monotonic() + STATEFUL_SECONDS
    while time.monotonic() < deadline and Workflows.steps < STATEFUL_STEPS:
        try:
            Workflows.run(settings=STATEFUL_SETTINGS)
        except Flaky:
            # A scenario drew differently from an earlier one with the same start: the
            # server's state moved on. schemathesis's own runner treats this as the end of
            # a suite too; what the checks found is in `found` already. Run another.
            continue
    assert not Workflows.found, "\n\n".join(Workflows.found.values())
    assert Workflows.steps >= STATEFUL_MIN_STEPS, f"only {Workflows.steps} calls were made"
    # The run could not revoke its own credentials: had it, every step after would be a 401.
    me = httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
