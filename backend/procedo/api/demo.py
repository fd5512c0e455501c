"""The demo tenant for `procedo serve --demo`: example flows published, subjects, roles, people.

Made once; on every later start only the demo admin's password is renewed (it
is printed, and never stored in clear).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from procedo.api import accounts, security
from procedo.db import models as m
from procedo.flow.problems import FlowError
from procedo.runtime import admin, setup
from procedo.runtime.context import Runtime
from procedo.runtime.trial import read_subject

log = logging.getLogger("procedo.demo")
DEMO_SLUG = "demo"
ADMIN = "admin@demo.example"
# People of the demo office and the roles each holds (every role the example flows use).
PEOPLE: dict[str, tuple[str, str, list[str]]] = {
    "anna@demo.example": ("Anna de Vries", "designer", ["Management A", "Relatiebeheerder"]),
    "ben@demo.example": (
        "Ben Jansen",
        "member",
        ["Accountant", "Collections", "Fiscaal", "Dunning approver"],
    ),
    "carla@demo.example": (
        "Carla Smit",
        "member",
        ["Accountant", "Administratie", "Collections", "Conversion", "Deputy", "Management B"],
    ),
}
DEBTORS: dict[str, dict[str, Any]] = {
    "D-1001": {
        "name": "Bakkerij Het Zoete Brood",
        "email": "info@zoetebrood.example",
        "problematic": False,
        "dunning_notices": 0,
        "debt_amount": "845.50",
        "oldest_overdue_days": 9,
    },
    "D-1002": {
        "name": "Garage Van Dijk",
        "email": "admin@garagevandijk.example",
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": "2310.00",
        "days_since_last_dunning": 15,
    },
}
CLIENTS: dict[str, dict[str, Any]] = {
    "C-2001": {
        "name": "Studio Noord B.V.",
        "client_number": "2001",
        "products": ["Aangifte BTW", "Jaarrekening"],
        "vat_period": "monthly",
        "email": "finance@studionoord.example",
    },
    "C-2002": {
        "name": "Hoveniersbedrijf Groen",
        "client_number": "2002",
        "products": ["Jaarrekening"],
        "vat_period": "quarterly",
        "email": "groen@hovenier.example",
    },
}


@dataclass(frozen=True)
class DemoLogin:
    tenant: str
    email: str
    password: str
    created: bool


def examples_dir() -> Path:
    """docs/examples: packaged into the wheel as procedo/examples, or the source tree's."""
    packaged = Path(str(resources.files("procedo") / "examples"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "docs" / "examples"


def ensure_demo(rt: Runtime) -> DemoLogin:
    with rt.db.read() as session:
        tenant = session.scalar(sa.select(m.Tenant).where(m.Tenant.slug == DEMO_SLUG))
        admin_id = (
            session.scalar(
                sa.select(m.User.id).where(m.User.tenant_id == tenant.id, m.User.email == ADMIN)
            )
            if tenant is not None
            else None
        )
    if tenant is not None and admin_id is not None:
        password = security.new_password()
        accounts.set_password(rt, admin_id, password)
        return DemoLogin(DEMO_SLUG, ADMIN, password, created=False)
    made = accounts.create_tenant(rt, "Demo Office", ADMIN, slug=DEMO_SLUG, admin_name="Demo Admin")
    _fill(rt, made.tenant.id)
    return DemoLogin(DEMO_SLUG, ADMIN, made.password, created=True)


def _fill(rt: Runtime, tenant_id: Any) -> None:
    for email, (name, access, roles) in PEOPLE.items():
        accounts.add_user(rt, tenant_id, email, name, access)  # type: ignore[arg-type]
        for role in roles:
            setup.add_member(rt, tenant_id, role, email)
    folder = examples_dir()
    for path in sorted(folder.glob("*.json")):
        try:
            setup.publish(rt, tenant_id, path.read_bytes(), "demo")
        except FlowError as exc:  # one broken example should not keep the demo from starting
            log.warning("example %s not published:\n%s", path.name, exc)
    for path in sorted((folder / "subjects").glob("*.json")):
        invoice = read_subject(path.read_bytes())
        subject = setup.upsert_subject(
            rt, tenant_id, "invoice", invoice.key, invoice.fields, invoice.status
        )
        # The invoice approval flow starts on this event, so tasks wait in the inboxes.
        admin.post_event(rt, tenant_id, subject.id, "invoice.received")
    for key, fields in DEBTORS.items():
        setup.upsert_subject(rt, tenant_id, "debtor", key, fields, "active")
    for key, fields in CLIENTS.items():
        setup.upsert_subject(rt, tenant_id, "client", key, fields, "active")
