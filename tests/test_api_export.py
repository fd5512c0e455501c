"""Exporting every version of a flow at once (issue 4: export one version, or all)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from procedo.api.server import Backend
from tests.api_helpers import embedded_backend, live_server, office, ok
from tests.conftest import dumps, minimal_flow

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    with embedded_backend(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as running:
        yield running


def test_export_all_gives_every_version_oldest_first(backend: Backend) -> None:
    with live_server(backend.runtime) as url:
        acme = office(backend.runtime, url, "Acme Office")
        ok(acme.http.post("/flows/import", content=dumps(minimal_flow()), headers=JSON), 201)
        ok(acme.http.post("/flows/minimal/publish"), 201)
        renamed = dumps(minimal_flow(name="Minimal, second edition"))
        ok(acme.http.post("/flows/import", content=renamed, headers=JSON))
        ok(acme.http.post("/flows/minimal/publish"), 201)

        bundle = acme.http.get("/flows/minimal/export/all")
        assert bundle.status_code == 200
        assert "minimal-versions.json" in bundle.headers["content-disposition"]
        versions = json.loads(bundle.content)
        one_by_one = [
            json.loads(acme.http.get("/flows/minimal/export", params={"version": n}).content)
            for n in (1, 2)
        ]
        assert versions == one_by_one
        assert [v["name"] for v in versions] == ["Minimal", "Minimal, second edition"]
        assert acme.http.get("/flows/nowhere/export/all").status_code == 404
