"""The demo tenant for `procedo serve --demo`: example flows published, subjects, roles, people,
and a few hundred debtors with invoices, notices and payments (receivables/demo_data.py).

Made once; on every later start the passwords of the admin and of each demo person
are renewed and printed (never stored in clear), so a newcomer can act as each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from procedo.api import accounts, security
from procedo.db import models as m
from procedo.flow.problems import FlowError
from procedo.procedures.demo import set_up_procedures
from procedo.receivables.demo_data import add_demo_receivables
from procedo.runtime import admin, setup
from procedo.runtime.context import Runtime
from procedo.runtime.trial import read_subject

log = logging.getLogger("procedo.demo")
DEMO_SLUG = "demo"
ADMIN = "admin@demo.example"
# People of the demo office and the roles each holds (every role the example flows use).
PEOPLE: dict[str, tuple[str, str, list[str]]] = {
    "anna@demo.example": (
        "Anna de Vries",
        "designer",
        ["Management A", "Relatiebeheerder", "Sales manager"],
    ),
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
    "dirk@demo.example": ("Dirk Bakker", "member", ["Salaris"]),
}
# Members per client (K1): they hold the role for that client instead of the office's
# members, so Studio Noord's VAT preparation goes to Dirk, not to Carla.
CLIENT_MEMBERS: dict[str, dict[str, list[str]]] = {
    "C-2001": {"Administratie": ["dirk@demo.example"]},
    "C-2002": {"Relatiebeheerder": ["ben@demo.example"]},
}
CLIENTS: dict[str, dict[str, Any]] = {
    "C-2001": {
        "name": "Studio Noord B.V.",
        "client_number": "2001",
        "products": ["Aangifte BTW", "Jaarrekening"],
        "vat_period": "monthly",
        "email": "finance@studionoord.example",
        "contact": {"name": "Sanne Noord", "function": "Directeur"},
    },
    "C-2002": {
        "name": "Hoveniersbedrijf Groen",
        "client_number": "2002",
        "products": ["Jaarrekening"],
        "vat_period": "quarterly",
        "email": "groen@hovenier.example",
        "contact": {"name": "Pieter Groen", "function": "Eigenaar"},
    },
}


@dataclass(frozen=True)
class PersonLogin:
    email: str
    password: str
    name: str
    access: str
    roles: list[str]
    clients: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoLogin:
    tenant: str
    email: str
    password: str
    created: bool
    people: list[PersonLogin] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What `procedo serve --demo` prints: the admin's login first, then each person's."""
        renewed = "" if self.created else " (renewed at this start)"
        out = [
            f"demo login: tenant '{self.tenant}', {self.email}, password {self.password}{renewed}"
        ]
        for p in self.people:
            roles = f"; roles {', '.join(p.roles)}" if p.roles else ""
            clients = f"; {', '.join(p.clients)}" if p.clients else ""
            out.append(
                f"demo login: tenant '{self.tenant}', {p.email}, password {p.password}"
                f" ({p.name}, {p.access}{roles}{clients})"
            )
        return out


def examples_dir() -> Path:
    """docs/examples: packaged into the wheel as procedo/examples, or the source tree's."""
    packaged = Path(str(resources.files("procedo") / "examples"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "docs" / "examples"


def ensure_demo(rt: Runtime, before_events: Callable[[str], None] | None = None) -> DemoLogin:
    """The demo tenant, made on first start; `before_events(slug)` runs once the tenant
    exists and before its invoices are announced (the demo's mail sink is set there, so
    the first rejection mail does not fail for want of a mail server)."""
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
        if before_events is not None:
            before_events(DEMO_SLUG)
        password = security.new_password()
        accounts.set_password(rt, admin_id, password)
        renewed = [_renew(rt, tenant.id, email) for email in PEOPLE]
        return DemoLogin(DEMO_SLUG, ADMIN, password, False, [p for p in renewed if p])
    made = accounts.create_tenant(rt, "Demo Office", ADMIN, slug=DEMO_SLUG, admin_name="Demo Admin")
    if before_events is not None:
        before_events(DEMO_SLUG)
    return DemoLogin(DEMO_SLUG, ADMIN, made.password, True, _fill(rt, made.tenant.id))


def _person(email: str, password: str) -> PersonLogin:
    name, access, roles = PEOPLE[email]
    clients = [
        f"{role} for {CLIENTS[key]['name']}"
        for key, held in CLIENT_MEMBERS.items()
        for role, members in held.items()
        if email in members
    ]
    return PersonLogin(email, password, name, access, roles, clients)


def _renew(rt: Runtime, tenant_id: Any, email: str) -> PersonLogin | None:
    """A new password for a demo person; None when they were removed from the demo tenant."""
    with rt.db.read() as session:
        user_id = session.scalar(
            sa.select(m.User.id).where(m.User.tenant_id == tenant_id, m.User.email == email)
        )
    if user_id is None:
        return None
    password = security.new_password()
    accounts.set_password(rt, user_id, password)
    return _person(email, password)


def _receivables(rt: Runtime, tenant_id: Any) -> None:
    """Debtors with invoices, notices a workflow sent and payments (receivables/demo_data.py),
    so the dunning flows select someone on their first run."""
    with rt.db.transaction() as session:
        tenant = session.get(m.Tenant, tenant_id)
        assert tenant is not None
        notices_version = session.scalar(
            sa.select(m.FlowVersion.id)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
            .where(m.Flow.tenant_id == tenant_id, m.Flow.key == "dunning-level-1")
            .order_by(m.FlowVersion.number.desc())
            .limit(1)
        )
        made = add_demo_receivables(
            session, tenant_id, rt.clock.now(), tenant.timezone, notices_version
        )
    log.info(
        "demo receivables: %d debtors, %d open items, %d notices, %d payments",
        made.debtors,
        made.items,
        made.notices,
        made.payments,
    )


def _fill(rt: Runtime, tenant_id: Any) -> list[PersonLogin]:
    people = []
    for email, (name, access, roles) in PEOPLE.items():
        _user, password = accounts.add_user(rt, tenant_id, email, name, access)  # type: ignore[arg-type]
        people.append(_person(email, password))
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
    _receivables(rt, tenant_id)
    set_up_procedures(rt, tenant_id)  # after the receivables: it starts on their facts
    for key, fields in CLIENTS.items():
        client = setup.upsert_subject(rt, tenant_id, "client", key, fields, "active")
        for role, members in CLIENT_MEMBERS.get(key, {}).items():
            for email in members:
                setup.add_member(rt, tenant_id, role, email, client.id)
    return people
