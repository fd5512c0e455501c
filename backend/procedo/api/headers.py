"""Security headers on every answer: API results, errors of any status, the designer's files.

Set as the answer leaves the application (a `before_send` hook), so nothing that
answers, neither an exception handler nor the router's own 404 or 405, is missed;
a header a handler set itself is left as it is.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

# Pages (the designer, the API docs): scripts only from this origin. 'unsafe-eval' is
# for the designer's form validator (ajv compiles each node's parameter schema into a
# function); inline styles are React's style props and the not-built page. No
# inline script, no other origin, no plugins, no framing, forms post only here.
PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Everything else (JSON, files, errors) is never a page: it may load nothing at all.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# No MIME sniffing, no framing by other sites (clickjacking), no referrer leaking paths.
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


PORTAL_PREFIX = "/portal/"


def policy_for(content_type: str) -> str:
    return PAGE_POLICY if content_type.lower().startswith("text/html") else DATA_POLICY


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar `before_send` hook: runs for every message the application sends."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    if scope.get("path", "").startswith((PORTAL_PREFIX, "/client/")):
        # The debtor portal's address holds its token: no answer there may send it on
        # as a Referer (its pages set their own stricter policy, procedo/portal/page.py).
        headers.setdefault("Referrer-Policy", "no-referrer")
    for name, value in COMMON_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = policy_for(headers.get("Content-Type", ""))
