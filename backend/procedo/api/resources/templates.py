"""The template library: named email templates per language, and their preview on a real subject.

Reading is for the tenant's own people; creating, changing and deleting for
designers and administrators, like flows (the templates are part of them).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.messaging import library
from procedo.messaging.library import (
    Rendered,
    TemplateBody,
    TemplateIn,
    TemplateOut,
    TemplateSummary,
)
from procedo.templates import TemplateError


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    subject_id: uuid.UUID
    # Default: the subject's language, else the tenant's default language.
    language: Annotated[str, msgspec.Meta(pattern=r"^(nl|de|en)$")] | None = None


def _refused(exc: library.TemplateProblems) -> ApiError:
    count = len(exc.problems)
    return ApiError(
        422, f"the template has {count} problem(s); nothing was stored", problems=exc.problems
    )


class TemplateController(Controller):
    path = "/templates"
    tags = ["templates"]

    @get("/", sync_to_thread=True)
    def list_templates(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[TemplateSummary]:
        caller.internal()
        return library.list_templates(rt, caller.tenant_id, limit, offset)

    @post("/", sync_to_thread=True)
    def create_template(
        self, data: JSONBody[TemplateIn], caller: CallerDep, rt: RuntimeDep
    ) -> TemplateOut:
        """A new template: 201; 409 if the name is taken; 422 listing every problem."""
        caller.require("designer")
        try:
            return library.create_template(rt, caller.tenant_id, data, caller.actor)
        except library.TemplateProblems as exc:
            raise _refused(exc) from exc

    @get("/{template:str}", sync_to_thread=True)
    def get_template(
        self, template: FromPath[str], caller: CallerDep, rt: RuntimeDep
    ) -> TemplateOut:
        caller.internal()
        return library.get_template(rt, caller.tenant_id, template)

    @put("/{template:str}", sync_to_thread=True, status_code=200)
    def replace_template(
        self,
        template: FromPath[str],
        data: JSONBody[TemplateBody],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> TemplateOut:
        """Replace its subject type, description and texts (languages left out are removed)."""
        caller.require("designer")
        try:
            return library.replace_template(rt, caller.tenant_id, template, data, caller.actor)
        except library.TemplateProblems as exc:
            raise _refused(exc) from exc

    @delete("/{template:str}", sync_to_thread=True)
    def delete_template(self, template: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> None:
        """Delete it; 409 while a published flow sends it."""
        caller.require("designer")
        library.delete_template(rt, caller.tenant_id, template)

    @post("/{template:str}/preview", sync_to_thread=True, status_code=200)
    def preview(
        self, template: FromPath[str], data: JSONBody[PreviewIn], caller: CallerDep, rt: RuntimeDep
    ) -> Rendered:
        """The template rendered for one of the tenant's subjects; nothing is sent."""
        caller.internal()
        try:
            return library.preview(rt, caller.tenant_id, template, data.subject_id, data.language)
        except TemplateError as exc:
            raise ApiError(422, str(exc)) from exc
