"""Login to a session cookie (plus the CSRF cookie), logout, who am I, change the password."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from procedo.api import accounts
from procedo.api.caller import CSRF_COOKIE, SESSION_COOKIE, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.throttle import LoginThrottle

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


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", sync_to_thread=True, status_code=200)
    def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], rt: RuntimeDep
    ) -> Response[Me]:
        """Log in with a password: sets the session cookie and the CSRF cookie."""
        throttle: LoginThrottle = request.app.state.login_throttle
        account = ("account", data.tenant, data.email.strip().lower())
        keys = [account, ("address", request.client.host if request.client else "")]
        wait = throttle.wait(keys)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            unit = "minute" if minutes == 1 else "minutes"
            raise ApiError(
                429,
                f"too many failed logins; try again in {minutes} {unit}",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        login = accounts.log_in(rt, data.tenant, data.email, data.password)
        if login is None:
            throttle.failed(keys)
            raise ApiError(401, "wrong tenant, email or password")
        throttle.succeeded(account)
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

    @post("/password", sync_to_thread=True, status_code=204)
    def change_password(
        self, data: JSONBody[PasswordIn], caller: CallerDep, rt: RuntimeDep
    ) -> None:
        """Change your password (at least 12 characters); your other sessions end."""
        if accounts.log_in(rt, caller.tenant_slug, caller.email, data.current) is None:
            raise ApiError(403, "the current password is wrong")
        accounts.set_password(rt, caller.user_id, data.new)
