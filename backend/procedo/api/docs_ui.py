"""The API docs at `/schema`: Swagger UI from this server's own files, nothing from a CDN.

Litestar's own Swagger page loads its scripts from jsDelivr and starts them with an
inline script, so without internet (or under a strict Content-Security-Policy) it is
a blank page. Here the page loads Swagger UI from `/docs-ui/` (the designer's build
copies it there from the swagger-ui-dist npm package: designer/scripts/docs-ui.mjs)
and its start-up script from `/schema/docs-ui.js`: same origin, no inline script.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import MediaType, Request, Response, Router, get
from litestar.openapi.plugins import OpenAPIRenderPlugin

ASSETS = "/docs-ui"  # under the designer's build (backend/procedo/web/docs-ui/)
START_SCRIPT = "docs-ui.js"  # served by this plugin next to the page

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body style="margin: 0">
<div id="swagger-ui" data-spec="{spec}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{start}"></script>
</body>
</html>
"""

# Reads the document's address from the page; says so plainly when the files are missing.
START = """(function () {
  var root = document.getElementById("swagger-ui");
  var spec = root.getAttribute("data-spec");
  if (typeof window.SwaggerUIBundle !== "function") {
    root.style.cssText = "font-family: sans-serif; max-width: 40em; margin: 4em auto";
    root.innerHTML = "<h1>API docs</h1><p>The docs page's files are not built (they come " +
      "with the designer's build). The OpenAPI document is at <a></a>.</p>";
    var link = root.querySelector("a");
    link.href = spec;
    link.textContent = spec;
    return;
  }
  window.ui = window.SwaggerUIBundle({ url: spec, dom_id: "#swagger-ui", deepLinking: true });
})();
"""


class LocalSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI at `/schema` (and `/schema/swagger`), every file from this server."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path, media_type=MediaType.HTML, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec = self.get_openapi_json_route(request)  # /schema/openapi.json
        base = spec.rsplit("/", 1)[0]
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        html = PAGE.format(title=title, assets=ASSETS, spec=spec, start=f"{base}/{START_SCRIPT}")
        return html.encode()

    def receive_router(self, router: Router) -> None:
        # A handler made per app: each app registers its own.
        @get(f"/{START_SCRIPT}", include_in_schema=False, sync_to_thread=False)
        def start_script() -> Response[str]:
            return Response(
                START, media_type="text/javascript", headers={"Cache-Control": "no-cache"}
            )

        router.register(start_script)


def docs_ui() -> LocalSwaggerUI:
    """The render plugin for OpenAPIConfig(render_plugins=[...])."""
    return LocalSwaggerUI()
