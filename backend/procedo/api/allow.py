"""`OPTIONS` answers with every method of its path (`Allow`), not only some.

Litestar makes one OPTIONS handler per route handler's path as it registers them; when a
controller declares GET and POST of one path as two handlers, the route is rebuilt with
both but keeps the first OPTIONS handler, whose `Allow` names only the first handler's
methods. This `before_send` hook writes `Allow` from the finished route table instead.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

_STATE_KEY = "allow_by_path"


def _allow_of(app: Litestar) -> dict[str, str]:
    """Route path -> its Allow value; built at the first OPTIONS, kept in the app's state."""
    table: dict[str, str] | None = app.state.get(_STATE_KEY)
    if table is None:
        table = {}
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                value = ", ".join(sorted({*route.methods, "OPTIONS"}))
                table[route.path] = table[route.path_format] = value
        app.state[_STATE_KEY] = table
    return table


async def allow_every_method(message: Message, scope: Scope) -> None:
    """Litestar `before_send` hook: an OPTIONS answer's `Allow` lists its path's methods."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    allow = _allow_of(scope["app"]).get(str(scope.get("path_template", "")))
    if allow is not None:
        MutableScopeHeaders.from_message(message)["Allow"] = allow
