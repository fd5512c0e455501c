"""The API docs page at /schema works without internet: every file it loads is ours.

Litestar's own Swagger page loads its scripts from a CDN (a blank page offline);
backend/procedo/api/docs_ui.py serves Swagger UI from the designer's build instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from procedo.api.app import create_app
from procedo.api.web import default_web_dir

WEB = default_web_dir()


@pytest.fixture
def client() -> Any:
    if not (Path(WEB) / "docs-ui" / "swagger-ui-bundle.js").is_file():
        reason = "the designer is not built (scripts/test builds it, with the docs' files)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: this test must run)")
        pytest.skip(reason)
    with TestClient(create_app(rt=None, web_dir=WEB)) as test_client:  # type: ignore[arg-type]
        yield test_client


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_the_docs_page_loads_only_same_origin_files_and_each_is_served(
    client: Any, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "//" not in html, "the page names another origin (http://, https:// or //)"
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, html
    assert all(not body.strip() for _attrs, body in scripts), "an inline script"
    sources = [re.search(r'src="([^"]+)"', attrs) for attrs, _body in scripts]
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert styles
    for url in [s[1] for s in sources if s] + styles:
        assert url.startswith("/"), url
        served = client.get(url)
        assert served.status_code == 200, url
        kind = "css" if url.endswith(".css") else "javascript"
        assert kind in served.headers["content-type"], (url, served.headers["content-type"])
        assert len(served.content) > 100, url


def test_the_start_script_reads_the_document_this_server_serves(client: Any) -> None:
    html = client.get("/schema").text
    spec = re.search(r'data-spec="([^"]+)"', html)
    assert spec is not None
    document = client.get(spec[1])
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Procedo API"
