"""The client's page at ``/client/{token}``: what the office asks, uploads, fields, approvals.

Built on the debtor portal's pieces, imported, not copied: its links (scope
``client``: random token kept as a hash, expiry, revocation), its throttle of
failed attempts per address, its stylesheet, base template and headers (no
script may run, ``Referrer-Policy: no-referrer``, no caching). No staff credential
is read here, and a client token is no credential on ``/api``. Forms post with
the link's CSRF value, then redirect to the page (post, redirect, get).
"""

from __future__ import annotations

import datetime as dt
import uuid
from importlib.resources import files
from typing import Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from markupsafe import Markup

from procedo.api import security, tenancy
from procedo.api.throttle import Throttled
from procedo.clientpage import requests, uploads
from procedo.clientpage.texts import LANGUAGE_NAMES, LANGUAGES, TEXTS, pick
from procedo.db import models as m
from procedo.portal import links
from procedo.portal.page import CSS, HEADERS, THROTTLE
from procedo.runtime.context import Runtime
from procedo.runtime.work import lost_race, retrying

_ENV = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(str(files("procedo.clientpage") / "templates")),
            FileSystemLoader(str(files("procedo.portal") / "templates")),  # base.html
        ]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Every file at its limit plus the form's other fields; past it the body is cut off (413).
MAX_FORM: Final = 2 * uploads.MAX_FILE + 64 * 1024
FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
STATUS_OF: Final = {"too_large": 413, "bad_form": 415, "forbidden": 403}
# A post that lost a race with another step of the run is tried this often in all.
RETRIES: Final = 3


def _page(template: str, status: int = 200, **values: Any) -> Response[str]:
    html = _ENV.get_template(template).render(css=Markup(CSS), **values)  # noqa: S704 (our file)
    return Response(
        html, status_code=status, media_type="text/html; charset=utf-8", headers=HEADERS
    )


def _message(language: str, key: str, status: int, tenant: str = "") -> Response[str]:
    words = TEXTS[language]
    title = words["gone_title"] if key == "gone" else words["error"]
    return _page(
        "message.html", status, lang=language, t=words, title=title, text=words[key], tenant=tenant
    )


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _date(value: dt.datetime | None, language: str) -> str:
    if value is None:
        return ""
    day = value.date()
    return day.isoformat() if language == "en" else day.strftime("%d-%m-%Y")


class _Opened:
    """A valid client link with the client's open requests, read in the link's tenant."""

    def __init__(self, rt: Runtime, link: links.Link, asked: str | None) -> None:
        self.link = link
        with tenancy.only(str(link.tenant_id)), rt.db.read() as session:
            tenant = session.get(m.Tenant, link.tenant_id)
            client = session.get(m.Subject, link.debtor_id)
            self.tenant = tenant.name if tenant else ""
            self.language = pick(asked, (client.fields if client else {}).get("language"))
            found = requests.open_requests(session, link.tenant_id, link.debtor_id)
            received = requests.received_items(session, [r.id for r in found])
            self.requests = [
                {
                    "id": str(r.id),
                    "kind": r.kind,
                    "title": r.title,
                    "mode": r.mode,
                    "on_behalf_of": r.on_behalf_of,
                    "created": _date(r.created_at, self.language),
                    "deadline": _date(r.deadline_at, self.language),
                    "items": [
                        {
                            **item,
                            "received": item["id"] in received.get(r.id, set())
                            or item["id"] in r.answers,
                            "value": (r.answers.get(item["id"]) or {}).get("value", ""),
                        }
                        for item in r.items
                    ],
                }
                for r in found
            ]

    def render(
        self, token: str, done: str | None = None, problem: str | None = None, status: int = 200
    ) -> Response[str]:
        words = TEXTS[self.language]
        return _page(
            "client.html",
            status,
            lang=self.language,
            t=words,
            token=token,
            tenant=self.tenant,
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            requests=self.requests,
            csrf=self.link.csrf,
            accept=uploads.ACCEPT,
            done=words.get(f"done_{done}") if done in ("upload", "decision") else None,
            problem=words.get(problem) if problem else None,
        )


def _gone(rt: Runtime, link: links.Link | None, asked: str | None) -> Response[str]:
    """Expired or revoked: the office's name and how to get a new link; unknown: not even that."""
    if link is None:
        return _message(pick(asked, None), "gone", 404)
    with tenancy.only(str(link.tenant_id)), rt.db.read() as session:
        tenant = session.get(m.Tenant, link.tenant_id)
        client = session.get(m.Subject, link.debtor_id)
        language = pick(asked, (client.fields if client else {}).get("language"))
    return _message(language, "gone", 410, tenant.name if tenant else "")


def _valid_link(
    rt: Runtime, request: Request[Any, Any, Any], token: str
) -> links.Link | Response[str]:
    """The token's client link when it may be used now, else the page to answer; failures are
    counted with the portal's (one throttle per address for both pages)."""
    asked = request.query_params.get("lang")
    try:
        return THROTTLE.open(rt, _address(request), token, scope="client")
    except Throttled as wait:
        answer = _message(pick(asked, None), "throttled", 429)
        answer.headers["Retry-After"] = str(int(wait.wait) + 1)
        return answer
    except links.LinkRefused as refused:
        return _gone(rt, refused.link, asked)


@get("/{token:str}", sync_to_thread=True, include_in_schema=False)
def open_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """The client's open requests and their forms. Opening changes nothing but the history."""
    rt: Runtime = request.app.state.runtime
    tenancy.enter(tenancy.NO_TENANT)  # no tenant's rows until a link names one
    found = _valid_link(rt, request, token)
    if isinstance(found, Response):
        return found
    opened = _Opened(rt, found, request.query_params.get("lang"))
    with tenancy.only(str(found.tenant_id)), rt.db.transaction() as session:
        links.log(
            session,
            found.tenant_id,
            found.debtor_id,
            "client_page_opened",
            rt.clock.now(),
            requests.CLIENT_ACTOR,
            {"link": str(found.id)},
        )
    return opened.render(token, done=request.query_params.get("done"))


Read = tuple[dict[str, str], list[requests.Upload]] | str


async def _form(request: Request[Any, Any, Any]) -> Read:
    """The posted fields and files, or the message key of what is wrong."""
    media_type, _ = request.content_type
    if media_type not in FORM_TYPES:
        return "bad_form"
    try:
        form = await request.form()
    except HTTPException as exc:
        return "too_large" if exc.status_code == 413 else "bad_form"
    fields: dict[str, str] = {}
    files_in: list[requests.Upload] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if not name.startswith("file_") or len(files_in) >= uploads.MAX_FILES:
                return "bad_form"
            content = await value.read(uploads.MAX_FILE + 1)
            if content:  # a file input left empty posts an empty part
                files_in.append(requests.Upload(name[5:], value.filename or "", content))
        elif name in fields:
            return "bad_form"  # a field given twice: which one was meant?
        else:
            fields[name] = str(value)
    return fields, files_in


async def _posted(
    request: Request[Any, Any, Any], token: str
) -> tuple[Runtime, links.Link, Read] | Response[str]:
    rt: Runtime = request.app.state.runtime
    tenancy.enter(tenancy.NO_TENANT)
    found = await sync_to_thread(_valid_link, rt, request, token)
    if isinstance(found, Response):
        return found
    return rt, found, await _form(request)


@post(
    "/{token:str}/requests/{request_id:uuid}/send",
    include_in_schema=False,
    request_max_body_size=MAX_FORM,
)
async def send(
    request: Request[Any, Any, Any], token: FromPath[str], request_id: FromPath[uuid.UUID]
) -> Response[str]:
    """Files and fields for a documents request: stored, then back to the page."""
    posted = await _posted(request, token)
    if isinstance(posted, Response):
        return posted
    rt, link, read = posted
    return await sync_to_thread(_answer, rt, request, link, token, request_id, read, "upload")


@post(
    "/{token:str}/requests/{request_id:uuid}/decide",
    include_in_schema=False,
    request_max_body_size=64 * 1024,
)
async def decide(
    request: Request[Any, Any, Any], token: FromPath[str], request_id: FromPath[uuid.UUID]
) -> Response[str]:
    """The client's approval or refusal of a return, with name and reason."""
    posted = await _posted(request, token)
    if isinstance(posted, Response):
        return posted
    rt, link, read = posted
    return await sync_to_thread(_answer, rt, request, link, token, request_id, read, "decision")


def _answer(
    rt: Runtime,
    request: Request[Any, Any, Any],
    link: links.Link,
    token: str,
    request_id: uuid.UUID,
    read: Read,
    what: str,
) -> Response[str]:
    asked = request.query_params.get("lang")
    if isinstance(read, str):
        return _Opened(rt, link, asked).render(token, problem=read, status=STATUS_OF[read])
    form, files_in = read
    if not security.same(form.get("csrf", ""), link.csrf):
        return _Opened(rt, link, asked).render(token, problem="forbidden", status=403)
    try:
        retrying(lambda: _store(rt, link, request_id, form, files_in, what), RETRIES)
    except requests.Problem as problem:  # the transaction rolled back: nothing is stored
        return _Opened(rt, link, asked).render(token, problem=problem.key, status=problem.status)
    except Exception as exc:
        if not lost_race(exc):
            raise
        # Raced every time: nothing is stored, the client is asked to send it again.
        return _Opened(rt, link, asked).render(token, problem="busy", status=409)
    language = _Opened(rt, link, asked).language
    location = f"/client/{token}?done={what}&lang={language}"
    return Response("", status_code=303, headers={**HEADERS, "Location": location})


def _store(
    rt: Runtime,
    link: links.Link,
    request_id: uuid.UUID,
    form: dict[str, str],
    files_in: list[requests.Upload],
    what: str,
) -> None:
    """The client's answer in one transaction: all of it is stored, or none of it."""
    with tenancy.only(str(link.tenant_id)), rt.transaction() as (session, out):
        now = rt.clock.now()
        if what == "upload":
            fields = {k[6:]: v for k, v in form.items() if k.startswith("field_")}
            requests.receive(rt, session, out, link, request_id, files_in, fields, now)
            return
        choice = form.get("decision")
        if choice not in ("approve", "decline") or files_in:
            raise requests.Problem("bad_form", 400)
        requests.decide(
            rt,
            session,
            out,
            link,
            request_id,
            choice == "approve",
            form.get("name", ""),
            form.get("reason", ""),
            now,
        )


def client_router() -> Router:
    """Mounted at /client beside the API; no before_request: staff credentials are never read."""
    return Router(path="/client", route_handlers=[open_page, send, decide])
