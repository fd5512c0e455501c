"""The Litestar application: `/api/v1` controllers, OpenAPI at `/schema`, the designer at `/`."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from procedo import __version__
from procedo.api.allow import allow_every_method
from procedo.api.bodies import MAX_BODY, JsonRequest
from procedo.api.caller import authenticate, provide_caller
from procedo.api.docs_ui import docs_ui
from procedo.api.errors import EXCEPTION_HANDLERS
from procedo.api.headers import add_security_headers
from procedo.api.openapi import document_errors, openapi_document
from procedo.api.resources.approvals import ApprovalController
from procedo.api.resources.auth import AuthController
from procedo.api.resources.calendar_settings import CalendarSettingsController
from procedo.api.resources.catalogue import NodeTypeController, SubjectTypeController
from procedo.api.resources.client_requests import ClientRequestController
from procedo.api.resources.facts import SubjectFactsController
from procedo.api.resources.flows import FlowController
from procedo.api.resources.imports import ImportController
from procedo.api.resources.instances import InstanceController
from procedo.api.resources.item_documents import OpenItemDocumentController
from procedo.api.resources.letters import LetterController, LetterheadController
from procedo.api.resources.outbox import OutboxController
from procedo.api.resources.partnerships import PartnershipController, SharedController
from procedo.api.resources.payments import PaymentController
from procedo.api.resources.portal_admin import PortalAdminController
from procedo.api.resources.procedures import OpenItemController, ProcedureController
from procedo.api.resources.roles import RoleController
from procedo.api.resources.rules import RuleController
from procedo.api.resources.schedules import ScheduleController
from procedo.api.resources.settings import EmailSettingsController
from procedo.api.resources.sms_settings import SmsSettingsController
from procedo.api.resources.starts import StartController
from procedo.api.resources.subjects import SubjectController
from procedo.api.resources.tasks import TaskController
from procedo.api.resources.templates import TemplateController
from procedo.api.resources.tokens import TokenController
from procedo.api.resources.users import UserController
from procedo.api.resources.worksheet import WorksheetController
from procedo.api.throttle import LoginThrottle
from procedo.api.web import default_web_dir, web_handler
from procedo.clientpage.page import client_router
from procedo.portal.page import portal_router
from procedo.portal.short import short_router
from procedo.runtime.context import Runtime

API_PREFIX = "/api/v1"
CONTROLLERS = [
    AuthController,
    TokenController,
    UserController,
    NodeTypeController,
    SubjectTypeController,
    FlowController,
    RuleController,
    SubjectController,
    SubjectFactsController,
    InstanceController,
    TaskController,
    ApprovalController,
    RoleController,
    PartnershipController,
    SharedController,
    ScheduleController,
    StartController,
    EmailSettingsController,
    CalendarSettingsController,
    SmsSettingsController,
    OpenItemDocumentController,
    TemplateController,
    PaymentController,
    ImportController,
    PortalAdminController,
    ClientRequestController,
    OutboxController,
    LetterController,
    LetterheadController,
    WorksheetController,
    ProcedureController,
    OpenItemController,
]


def create_app(rt: Runtime, web_dir: Path | None = None, debug: bool = False) -> Litestar:
    def provide_runtime() -> Runtime:
        return rt

    api = Router(
        path=API_PREFIX,
        route_handlers=CONTROLLERS,
        security=[{"bearer": []}, {"session": []}],
        before_request=authenticate,
    )
    app = Litestar(
        # The debtor portal and the client page: public, beside the API, read no staff credential.
        route_handlers=[
            api,
            portal_router(),
            short_router(),
            client_router(),
            web_handler(web_dir or default_web_dir()),
        ],
        dependencies={
            "rt": Provide(provide_runtime, use_cache=True, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY,
        request_class=JsonRequest,  # every JSON body read one way (api/bodies.py)
        # Every answer, errors and the designer's files included (api/headers.py).
        before_send=[add_security_headers, allow_every_method],
        openapi_config=OpenAPIConfig(
            title="Procedo API",
            version=__version__,
            path="/schema",
            render_plugins=[docs_ui()],  # Swagger UI from our own files, no CDN
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                    "session": SecurityScheme(
                        type="apiKey", name="procedo_session", security_scheme_in="cookie"
                    ),
                }
            ),
        ),
        debug=debug,
        state=State({"runtime": rt, "login_throttle": LoginThrottle()}),
    )
    document_errors(app)
    openapi_document(app)  # built now, so the first visitor of /schema does not wait
    return app
