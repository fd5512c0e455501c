"""The debtor's page at ``/portal/{token}``: public, server-rendered HTML, no scripts, no cookies.

Separate from the API: no staff credential is read here (a staff session cookie
opens nothing) and a portal token is no credential on ``/api`` (api/caller.py
knows only API tokens and sessions). Every answer carries a policy that allows
no script at all, one inline stylesheet by its hash, forms posting only here,
and ``Referrer-Policy: no-referrer`` so the token in the address never leaves in
a Referer header. Forms post with a CSRF value bound to the link, then redirect
to the page (post, redirect, get).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import Decimal
from importlib.resources import files
from typing import Any, Final

import sqlalchemy as sa
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from markupsafe import Markup
from sqlalchemy.orm import Session

from procedo.api import security, tenancy
from procedo.api.throttle import Throttled
from procedo.db import models as m
from procedo.portal import links, reactions, settings
from procedo.portal.texts import LANGUAGE_NAMES, LANGUAGES, TEXTS, pick
from procedo.runtime.context import Runtime

_TEMPLATES = files("procedo.portal") / "templates"
_ENV = Environment(
    loader=FileSystemLoader(str(_TEMPLATES)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
CSS: Final = (_TEMPLATES / "portal.css").read_text(encoding="utf-8").strip()
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# No script-src: default-src 'none' forbids every script; the one stylesheet by its hash.
POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        f"style-src 'sha256-{_CSS_HASH}'",
        "img-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS: Final = {
    "Content-Security-Policy": POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
# The proof (5 MB) and the form's other fields.
MAX_FORM: Final = reactions.MAX_PROOF + 64 * 1024
THROTTLE = links.PortalThrottle()
FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


def _page(template: str, status: int = 200, **values: Any) -> Response[str]:
    html = _ENV.get_template(template).render(css=Markup(CSS), **values)  # noqa: S704 (our file)
    return Response(
        html, status_code=status, media_type="text/html; charset=utf-8", headers=HEADERS
    )


def _message(
    language: str, key: str, status: int, tenant: str = "", title: str = "error"
) -> Response[str]:
    words = TEXTS[language]
    return _page(
        "message.html",
        status,
        lang=language,
        t=words,
        title=words[title],
        text=words[key],
        tenant=tenant,
    )


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _amount(value: Decimal, language: str) -> str:
    text = f"{value:,.2f}"
    if language in ("nl", "de"):  # 1.234,56
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def _date(value: dt.date, language: str) -> str:
    return value.isoformat() if language == "en" else value.strftime("%d-%m-%Y")


class _Opened:
    """A valid link with what the page needs, read in the link's tenant by ``session``."""

    def __init__(self, rt: Runtime, session: Session, link: links.Link, asked: str | None):
        self.link = link
        row = session.execute(
            sa.select(m.Tenant.name, m.Subject.fields)
            .select_from(m.Subject)
            .join(m.Tenant, m.Tenant.id == m.Subject.tenant_id)
            .where(m.Subject.id == link.debtor_id)
        ).one_or_none()
        self.tenant = row.name if row else ""
        self.language = pick(asked, (row.fields if row else {}).get("language"))
        self.settings = settings.read(session, link.tenant_id)
        self.items = reactions.open_items(session, link.tenant_id, link.debtor_id)
        self.today = reactions.today(rt, session, link.tenant_id)

    @classmethod
    def read(cls, rt: Runtime, link: links.Link, asked: str | None) -> _Opened:
        with tenancy.only(str(link.tenant_id)), rt.db.read() as session:
            return cls(rt, session, link, asked)

    def render(
        self, token: str, done: str | None = None, problem: str | None = None, status: int = 200
    ) -> Response[str]:
        words = TEXTS[self.language]
        own = self.settings.texts.get(self.language)  # type: ignore[call-overload]
        total = sum((i.open_amount for i in self.items), Decimal("0.00"))
        return _page(
            "page.html",
            status,
            lang=self.language,
            t=words,
            token=token,
            tenant=self.tenant,
            intro=(own.intro if own and own.intro else words["intro"]),
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            items=[
                {
                    "id": str(i.id),
                    "number": i.number,
                    "date": _date(i.issue_date, self.language),
                    "due": _date(i.due_date, self.language),
                    "open": _amount(i.open_amount, self.language),
                    "currency": i.currency,
                }
                for i in self.items
            ],
            total=_amount(total, self.language),
            currency=self.items[0].currency if self.items else "EUR",
            offered=self.settings.reactions,
            csrf=self.link.csrf,
            today=self.today.isoformat(),
            done=words.get(f"done_{done}") if done in reactions.EVENTS else None,
            problem=words.get(problem) if problem else None,
        )


def _gone(rt: Runtime, link: links.Link | None, asked: str | None) -> Response[str]:
    """Expired or revoked: the tenant's name and how to get a new link; unknown: not even that."""
    language = pick(asked, None)
    if link is None:
        return _message(language, "gone", 404, title="gone_title")
    with tenancy.only(str(link.tenant_id)), rt.db.read() as session:
        tenant = session.get(m.Tenant, link.tenant_id)
        debtor = session.get(m.Subject, link.debtor_id)
        language = pick(asked, (debtor.fields if debtor else {}).get("language"))
        own = settings.read(session, link.tenant_id).texts.get(language)  # type: ignore[call-overload]
    words = TEXTS[language]
    text = own.new_link if own and own.new_link else words["gone"]
    return _page(
        "message.html",
        410,
        lang=language,
        t=words,
        title=words["gone_title"],
        text=text,
        tenant=tenant.name if tenant else "",
    )


def _valid_link(
    rt: Runtime, request: Request[Any, Any, Any], token: str
) -> links.Link | Response[str]:
    """The token's link when it may be used now, else the page to answer; failures are counted."""
    asked = request.query_params.get("lang")
    try:
        return THROTTLE.open(rt, _address(request), token)
    except Throttled as wait:
        answer = _message(pick(asked, None), "throttled", 429)
        answer.headers["Retry-After"] = str(int(wait.wait) + 1)
        return answer
    except links.LinkRefused as refused:
        return _gone(rt, refused.link, asked)


@get("/{token:str}", sync_to_thread=True, include_in_schema=False)
def open_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """The debtor's open items and forms. Changes nothing but one row of the debtor's history."""
    rt: Runtime = request.app.state.runtime
    tenancy.enter(tenancy.NO_TENANT)  # no tenant's rows until a link names one
    found = _valid_link(rt, request, token)
    if isinstance(found, Response):
        return found
    # The page's reads and the history row of this use in one transaction.
    with tenancy.only(str(found.tenant_id)), rt.db.transaction() as session:
        opened = _Opened(rt, session, found, request.query_params.get("lang"))
        links.log(
            session,
            found.tenant_id,
            found.debtor_id,
            "portal_opened",
            rt.clock.now(),
            links.PORTAL_ACTOR,
            {"link": str(found.id)},
        )
    return opened.render(token, done=request.query_params.get("done"))


async def _form(request: Request[Any, Any, Any]) -> tuple[dict[str, str], bytes | None] | str:
    """The posted fields and the proof's bytes, or the message key of what is wrong."""
    media_type, _ = request.content_type
    if media_type not in FORM_TYPES:
        return "bad_form"
    try:
        form = await request.form()
    except HTTPException as exc:
        return "too_large" if exc.status_code == 413 else "bad_form"
    fields: dict[str, str] = {}
    proof: bytes | None = None
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name != "proof":
                return "bad_form"
            content = await value.read(reactions.MAX_PROOF + 1)
            proof = content or None
        elif name in fields:
            return "bad_form"  # a field given twice: which one was meant?
        else:
            fields[name] = str(value)
    return fields, proof


@post("/{token:str}/{reaction:str}", include_in_schema=False, request_max_body_size=MAX_FORM)
async def react(
    request: Request[Any, Any, Any], token: FromPath[str], reaction: FromPath[str]
) -> Response[str]:
    """A reaction from the page's forms: stored with its event, then back to the page."""
    rt: Runtime = request.app.state.runtime
    tenancy.enter(tenancy.NO_TENANT)  # no tenant's rows until a link names one
    found = await sync_to_thread(_valid_link, rt, request, token)
    if isinstance(found, Response):
        return found
    read = await _form(request)
    return await sync_to_thread(_react, rt, request, found, token, reaction, read)


def _react(
    rt: Runtime,
    request: Request[Any, Any, Any],
    link: links.Link,
    token: str,
    reaction: str,
    read: tuple[dict[str, str], bytes | None] | str,
) -> Response[str]:
    opened = _Opened.read(rt, link, request.query_params.get("lang"))
    if isinstance(read, str):
        status = 413 if read == "too_large" else 415 if read == "bad_form" else 400
        return opened.render(token, problem=read, status=status)
    form, proof = read
    if not security.same(form.get("csrf", ""), link.csrf):
        return opened.render(token, problem="forbidden", status=403)
    if reaction not in reactions.EVENTS:
        return opened.render(token, problem="not_offered", status=404)
    try:
        parsed = reactions.parse(reaction, form, opened.items, opened.settings, opened.today, proof)
    except reactions.Refused as refused:
        status = {"too_large": 413, "wrong_type": 415, "not_offered": 403}.get(refused.key, 422)
        return opened.render(token, problem=refused.key, status=status)
    try:
        with tenancy.only(str(link.tenant_id)), rt.transaction() as (session, out):
            reactions.record(session, out, link, parsed, rt.clock.now())
    except reactions.Refused as refused:  # the day's limit: nothing was written
        return opened.render(token, problem=refused.key, status=429)
    location = f"/portal/{token}?done={reaction}&lang={opened.language}"
    return Response("", status_code=303, headers={**HEADERS, "Location": location})


def portal_router() -> Router:
    """Mounted at /portal beside the API; no before_request: staff credentials are never read."""
    return Router(path="/portal", route_handlers=[open_page, react])
