"""The designer's built files at `/`; unknown non-API paths get index.html (client routing)."""

from __future__ import annotations

import mimetypes
from importlib import resources
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import File

from procedo.api.errors import ApiError

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Procedo</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Procedo</h1>
<p>The API runs, but the designer is not built, so there is nothing to show here yet.</p>
<p>Build it into <code>backend/procedo/web/</code> (see <code>designer/</code>), or use the
API: the interactive docs are at <a href="/schema">/schema</a>.</p>
</body></html>
"""


def default_web_dir() -> Path:
    return Path(str(resources.files("procedo") / "web"))


def web_handler(web_dir: Path) -> HTTPRouteHandler:
    root = web_dir.resolve()

    @get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
    def serve_designer(path: FromPath[str] = "/") -> Response[bytes] | File:
        relative = path.lstrip("/")
        if relative == "api" or relative.startswith(("api/", "schema/")):
            raise ApiError(404, f"no route /{relative}; the routes are listed at /schema")
        index = root / "index.html"
        if not index.is_file():
            return Response(NOT_BUILT.encode(), media_type=MediaType.HTML)
        candidate = (root / relative).resolve()
        if relative and candidate.is_file() and candidate.is_relative_to(root):
            media_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            # Built assets carry a content hash in their names: cache them for long.
            cache = (
                "public, max-age=31536000, immutable"
                if "/assets/" in f"/{relative}"
                else "no-cache"
            )
            return File(
                candidate,
                media_type=media_type,
                headers={"Cache-Control": cache},
                content_disposition_type="inline",
            )
        # Inline: Litestar's File defaults to an attachment, which a browser saves.
        return File(
            index,
            media_type=MediaType.HTML,
            headers={"Cache-Control": "no-cache"},
            content_disposition_type="inline",
        )

    return serve_designer
