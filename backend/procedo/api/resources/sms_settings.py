"""A tenant's SMS settings (administrators only): read, set, remove, send a test SMS.

The HTTP provider's bearer token goes in and never comes out: answers say ``token_set``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.flow.problems import Problem
from procedo.messaging import sms
from procedo.messaging.sms import SmsSettingsIn, SmsSettingsOut, SmsTestResult

# Settings are a few short fields: 16 KB is far more than any real body.
BODY_LIMIT = 16_384


class SmsTestIn(msgspec.Struct, forbid_unknown_fields=True):
    """The number the test SMS goes to (with country code, or one of the tenant's country)."""

    to: Annotated[str, msgspec.Meta(min_length=3, max_length=40)]


def _refused(exc: sms.SettingsProblem) -> ApiError:
    problem = Problem(code="settings.sms", message=str(exc), path=exc.path)
    return ApiError(422, f"{exc.path}: {exc}", problems=[problem])


class SmsSettingsController(Controller):
    path = "/settings/sms"
    tags = ["settings"]

    @get("/", sync_to_thread=True)
    def show(self, caller: CallerDep, rt: RuntimeDep) -> SmsSettingsOut:
        """The tenant's SMS provider; `configured: false` until set (admin)."""
        caller.require()
        return sms.read_settings(rt, caller.tenant_id)

    @put("/", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def set_settings(
        self, data: JSONBody[SmsSettingsIn], caller: CallerDep, rt: RuntimeDep
    ) -> SmsSettingsOut:
        """Set the provider (sink or http), URL, sender; omit `token` to keep the stored one."""
        caller.require()
        try:
            return sms.save_settings(rt, caller.tenant_id, data, caller.actor)
        except sms.SettingsProblem as exc:
            raise _refused(exc) from exc

    @delete("/", sync_to_thread=True)
    def remove(self, caller: CallerDep, rt: RuntimeDep) -> None:
        caller.require()
        sms.delete_settings(rt, caller.tenant_id, caller.actor)

    @post("/test", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def send_test(
        self, data: JSONBody[SmsTestIn], caller: CallerDep, rt: RuntimeDep
    ) -> SmsTestResult:
        """Send a test SMS now and report the provider's answer; the outbox is untouched."""
        caller.require()
        try:
            return sms.send_test(rt, caller.tenant_id, data.to, caller.actor)
        except sms.SettingsProblem as exc:
            raise _refused(exc) from exc
