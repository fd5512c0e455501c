"""The designer as `procedo serve` hands it to a browser: shown, not downloaded."""

from __future__ import annotations

import urllib.request

import pytest

from tests.browser.conftest import Server


@pytest.mark.parametrize("path", ["/", "/flows/invoice-approval", "/inbox"])
def test_pages_are_shown_inline(server: Server, path: str) -> None:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:  # noqa: S310
        disposition = response.headers.get("Content-Disposition", "")
        body = response.read().decode()
        content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("text/html")
    assert '<div id="root">' in body
    # A browser saves a page sent as an attachment instead of showing it. litestar's File
    # defaults to attachment: backend/procedo/api/web.py needs content_disposition_type="inline".
    assert not disposition.startswith("attachment"), (
        f"{path} is sent with Content-Disposition: {disposition!r}, so the browser downloads "
        "it; serve the designer's files with content_disposition_type='inline'"
    )
