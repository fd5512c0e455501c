"""Login to a session cookie (plus the CSRF cookie), logout, who am I, change the password.

Both password routes take only application/json bodies: a browser sends text/plain
and form bodies across sites without asking (login CSRF), JSON it does not. Both
count failures in the shared throttle (api/throttle.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from procedo.api import accounts
from procedo.api.bodies import require_json
from procedo.api.caller import CSRF_COOKIE, SESSION_COOKIE, CallerDep, RuntimeDep, authenticate
from procedo.api.errors import ApiError
from procedo.api.passwords import WeakPassword
from procedo.api.throttle import Attempt, LoginThrottle, Throttled
from procedo.runtime.context import Runtime

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
NewPassword = Annotated[str, msgspec.Meta(min_length=12, max_length=200)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Text
    email: Text
    password: Password


class UserOut(msgspec.Struct):
    email: str
    name: str
    access: str
    tenant: str


class Me(msgspec.Struct):
    user: UserOut


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    current: Password
    new: NewPassword


def me_of(caller: CallerDep) -> Me:
    return Me(UserOut(caller.email, caller.name, caller.access, caller.tenant_slug))


async def json_only(request: Request[Any, Any, Any]) -> None:
    """Before the body is read: 415 unless JSON. A route's hook replaces the router's,
    so it authenticates as well."""
    await authenticate(request)
    require_json(request)


def attempt(request: Request[Any, Any, Any], rt: Runtime, tenant: str, email: str) -> Attempt:
    """One more try on this account from this address, or 429 with Retry-After."""
    throttle: LoginThrottle = request.app.state.login_throttle
    account = ("account", tenant, email.strip().lower())
    address = ("address", request.client.host if request.client else "")
    try:
        return throttle.attempt(rt, account, address)
    except Throttled as throttled:
        minutes = max(1, round(throttled.wait / 60))
        unit = "minute" if minutes == 1 else "minutes"
        raise ApiError(
            429,
            f"too many failed attempts; try again in {minutes} {unit}",
            headers={"Retry-After": str(int(throttled.wait) + 1)},
        ) from None


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", sync_to_thread=True, status_code=200, before_request=json_only)
    def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], rt: RuntimeDep
    ) -> Response[Me]:
        """Log in with a password (application/json only): sets the session and CSRF cookies."""
        trying = attempt(request, rt, data.tenant, data.email)
        login = accounts.log_in(rt, data.tenant, data.email, data.password)
        if login is None:  # the attempt stays counted as a failure
            raise ApiError(401, "wrong tenant, email or password")
        trying.succeeded()
        secure = request.url.scheme == "https"
        seconds = accounts.SESSION_HOURS * 3600
        user = UserOut(login.user.email, login.user.name, login.user.access, login.tenant.slug)
        return Response(
            Me(user),
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=login.cookie,
                    httponly=True,
                    samesite="lax",
                    secure=secure,
                    max_age=seconds,
                    path="/",
                ),
                Cookie(
                    key=CSRF_COOKIE,
                    value=login.csrf,
                    httponly=False,
                    samesite="lax",
                    secure=secure,
                    max_age=seconds,
                    path="/",
                ),
            ],
        )

    @post("/logout", sync_to_thread=True, status_code=204)
    def logout(
        self, request: Request[Any, Any, Any], caller: CallerDep, rt: RuntimeDep
    ) -> Response[None]:
        """End this session (a bearer token stays valid: revoke it with DELETE /tokens/{id})."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            accounts.log_out(rt, cookie)
        response: Response[None] = Response(None, status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @get("/me", sync_to_thread=False)
    def me(self, caller: CallerDep) -> Me:
        """The logged-in user (or the token's user)."""
        return me_of(caller)

    @post("/password", sync_to_thread=True, status_code=204, before_request=json_only)
    def change_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> None:
        """Change your password: 12+ characters, not a common one nor made of your email,
        name or tenant. Your API tokens and your other sessions end; this session stays."""
        # A stolen session or token must not become a way to guess the password.
        trying = attempt(request, rt, caller.tenant_slug, caller.email)
        if not accounts.password_is(rt, caller.user_id, data.current):
            raise ApiError(403, "the current password is wrong")
        trying.succeeded()
        this_session = request.cookies.get(SESSION_COOKIE) if caller.via == "session" else None
        try:
            accounts.set_password(rt, caller.user_id, data.new, keep_session=this_session)
        except WeakPassword as weak:
            raise ApiError(422, f"{weak}; nothing was changed") from None
