"""A tenant's email settings (administrators only): read, set, remove, send a test message.

The SMTP password goes in and never comes out: answers say ``password_set``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.flow.problems import Problem
from procedo.messaging import channel
from procedo.messaging.channel import EmailSettingsIn, EmailSettingsOut, TestResult


class TestIn(msgspec.Struct, forbid_unknown_fields=True):
    """Where the test message goes (default: the administrator's own address)."""

    to: Annotated[str, msgspec.Meta(min_length=3, max_length=254)] | None = None


def _refused(exc: channel.SettingsProblem) -> ApiError:
    problem = Problem(code="settings.email", message=str(exc), path=exc.path)
    return ApiError(422, f"{exc.path}: {exc}", problems=[problem])


class EmailSettingsController(Controller):
    path = "/settings/email"
    tags = ["settings"]

    @get("/", sync_to_thread=True)
    def show(self, caller: CallerDep, rt: RuntimeDep) -> EmailSettingsOut:
        """The tenant's SMTP server and sender; `configured: false` until set (admin)."""
        caller.require()
        return channel.read_settings(rt, caller.tenant_id)

    @put("/", sync_to_thread=True, status_code=200)
    def set_settings(
        self, data: JSONBody[EmailSettingsIn], caller: CallerDep, rt: RuntimeDep
    ) -> EmailSettingsOut:
        """Set host, port, security, login, sender, reply-to; omit `password` to keep it."""
        caller.require()
        try:
            return channel.save_settings(rt, caller.tenant_id, data, caller.actor)
        except channel.SettingsProblem as exc:
            raise _refused(exc) from exc

    @delete("/", sync_to_thread=True)
    def remove(self, caller: CallerDep, rt: RuntimeDep) -> None:
        caller.require()
        channel.delete_settings(rt, caller.tenant_id, caller.actor)

    @post("/test", sync_to_thread=True, status_code=200)
    def send_test(
        self, caller: CallerDep, rt: RuntimeDep, data: JSONBody[TestIn | None] = None
    ) -> TestResult:
        """Send a test message now and report the server's answer; the outbox is untouched."""
        caller.require()
        to = (data.to if data is not None else None) or caller.email
        try:
            return channel.send_test(rt, caller.tenant_id, to, caller.actor)
        except channel.SettingsProblem as exc:
            raise _refused(exc) from exc
