"""The office's calendar (administrators only): time zone, country and closing days.

``lang`` names countries and public holidays in the UI's language.
"""

from __future__ import annotations

from typing import Literal

from litestar import Controller, get, put
from litestar.params import FromQuery, JSONBody

from procedo import office_calendar
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.flow.problems import Problem
from procedo.office_calendar import CalendarIn, CalendarOut

# 400 closing days with their names fit in some 60 KB.
BODY_LIMIT = 65_536
Lang = Literal["nl", "de", "en"]


class CalendarSettingsController(Controller):
    path = "/settings/calendar"
    tags = ["settings"]

    @get("/", sync_to_thread=True)
    def show(self, caller: CallerDep, rt: RuntimeDep, lang: FromQuery[Lang] = "en") -> CalendarOut:
        """Time zone, country, closing days, and the country's public holidays a year ahead."""
        caller.require()
        return office_calendar.read(rt, caller.tenant_id, lang)

    @put("/", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def set_calendar(
        self,
        data: JSONBody[CalendarIn],
        caller: CallerDep,
        rt: RuntimeDep,
        lang: FromQuery[Lang] = "en",
    ) -> CalendarOut:
        """Set all three at once; working days computed from now on follow them."""
        caller.require()
        try:
            return office_calendar.save(rt, caller.tenant_id, data, lang, caller.actor)
        except office_calendar.CalendarProblem as exc:
            problem = Problem(code="settings.calendar", message=str(exc), path=exc.path)
            raise ApiError(422, f"{exc.path}: {exc}", problems=[problem]) from exc
