"""The short address of a portal link: ``/p/{code}`` sends the browser on to ``/portal/{code}``.

Letters and SMS carry a short code (links.mint(short=True)): 80 random bits, kept only
as a hash, the link's own lifetime and revocation. This route reads the code as a
person may type it (any case, with or without dashes, O for 0) and answers 303 to the
portal page, which finds the link, counts a failed attempt and throttles exactly as
for a token: this route reads no database, so guessing here gains nothing.
"""

from __future__ import annotations

from litestar import Response, Router, get
from litestar.params import FromPath

from procedo.portal import links

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the code never leaves in a Referer
    "X-Robots-Tag": "noindex",
}


@get("/{code:str}", include_in_schema=False)
async def follow(code: FromPath[str]) -> Response[str]:
    """303 to the portal page of a well-formed code; 404 for anything else."""
    found = links.read_short(code)
    if found is None:
        return Response(
            "This link is not complete. Check the address in your letter or message.",
            status_code=404,
            media_type="text/plain",
            headers=_HEADERS,
        )
    return Response("", status_code=303, headers={**_HEADERS, "Location": f"/portal/{found}"})


def short_router() -> Router:
    """Mounted at /p beside the API, like the portal: no staff credential is read."""
    return Router(path="/p", route_handlers=[follow])
