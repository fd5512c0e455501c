"""schemathesis against the served OpenAPI: no 5xx, and answers match the documented schemas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from procedo.api import accounts
from procedo.api.app import create_app
from procedo.api.openapi import openapi_document
from procedo.api.server import Backend
from tests.api_helpers import embedded_backend, live_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    backend: Backend
    with embedded_backend(f"sqlite:///{folder / 'procedo.db'}", folder) as backend:
        made = accounts.create_tenant(backend.runtime, "Fuzz Office", "admin@fuzz.example")
        with live_server(backend.runtime) as url:
            yield url, made.token


# The document the server serves at /schema/openapi.json (the route table needs no runtime).
# Flow documents are left out: generating documents of the flow format's schema is far too
# slow for hypothesis, and their decoder has its own tests (every invalid example, limits).
schema = schemathesis.openapi.from_dict(
    openapi_document(create_app(rt=None))  # type: ignore[arg-type]
).exclude(path_regex=r"^/api/v1/flows(/validate|/import|/\{key\}/draft)?$", method=["POST", "PUT"])


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
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
