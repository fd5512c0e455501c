"""Receivables for the demo tenant: a few hundred debtors with invoices, notices and payments.

Generated from a fixed seed relative to the day the demo is made, so every new demo
looks alike and the shipped dunning flows select someone on their first run: D6
(no notices, oldest invoice more than 6 days overdue), D7 (one notice, 8 days ago or
more) and D8 (two notices, debt between 300 and 4,000, 14 days or more) each find
debtors, and others they must skip (problematic, paid, disputed, not yet due, a
notice too recent). Notices are history rows of a completed instance of
``dunning-level-1`` with ``mark: dunning_notice``, as a workflow writes them, so
the computed facts count them. Written in a handful of bulk statements.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.receivables import OpenItem, Payment
from procedo.db.sms import OpenItemDocument
from procedo.ids import new_id
from procedo.messaging.attachments import PDF, UBL, invoice_pdf, ubl_with_pdf

SEED: Final = 14  # the receivables issue
DEBTORS: Final = 300
FIRST_WORDS: Final = (
    "Bakkerij", "Garage", "Hoveniersbedrijf", "Drukkerij", "Schildersbedrijf", "Autohaus",
    "Bäckerei", "Installatiebedrijf", "Transport", "Café", "Studio", "Tischlerei",
    "Kapsalon", "Elektro", "Bloemenhandel", "Reisebüro", "Fietsenwinkel", "Metzgerei",
)  # fmt: skip
LAST_WORDS: Final = (
    "De Vries", "Jansen", "Van Dijk", "Bakker", "Visser", "Smit", "Meyer", "Schulz",
    "Mulder", "De Boer", "Peeters", "Maes", "Hoffmann", "Dekker", "Willems", "Koch",
    "Brouwer", "Vos", "Hendriks", "Becker",
)  # fmt: skip
# Debtors whose name starts so write German; the others Dutch (their messages' language).
GERMAN_WORDS: Final = frozenset(
    {"Autohaus", "Bäckerei", "Tischlerei", "Elektro", "Reisebüro", "Metzgerei"}
)
REGIONS: Final = ("Noord", "Oost", "Zuid", "West", "Randstad", "Rheinland")


@dataclass
class DemoReceivables:
    """What was written, to print and to test against."""

    debtors: int = 0
    items: int = 0
    notices: int = 0
    payments: int = 0
    keys: list[str] = field(default_factory=list)


@dataclass
class _Rows:
    subjects: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)


def add_demo_receivables(
    session: Session,
    tenant_id: uuid.UUID,
    now: dt.datetime,
    timezone: str,
    notices_version: uuid.UUID | None,
) -> DemoReceivables:
    """Write the demo's debtors, items, workflow notices and payments; ``now`` is the day
    they are made (the tenant's date in ``timezone``). Without ``notices_version`` (the
    published dunning-level-1) nobody has had a notice yet."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    rng = random.Random(SEED)  # noqa: S311 - demo data, the same at every start on purpose
    builder = _Builder(rng, tenant_id, now, today, notices_version)
    builder.named_debtors()
    for n in range(DEBTORS - len(builder.done.keys)):
        builder.generated_debtor(1003 + n)
    rows = builder.rows
    for model, values in (
        (m.Subject, rows.subjects),
        (OpenItem, rows.items),
        (OpenItemDocument, rows.documents),
        (m.Instance, rows.instances),
        (m.History, rows.history),
        (Payment, rows.payments),
    ):
        if values:
            session.execute(sa.insert(model), values)
    return builder.done


class _Builder:
    def __init__(
        self,
        rng: random.Random,
        tenant_id: uuid.UUID,
        now: dt.datetime,
        today: dt.date,
        notices_version: uuid.UUID | None,
    ) -> None:
        self.rng = rng
        self.tenant_id = tenant_id
        self.now = now
        self.today = today
        self.notices_version = notices_version
        self.rows = _Rows()
        self.done = DemoReceivables()

    def named_debtors(self) -> None:
        """The two debtors the docs name: one for D6 today, one for D8."""
        # Its sales representative hears of its disputed invoice (the dispute procedure, P5).
        rep = {"sales_rep_email": "verkoop@demo.example"}
        rep |= {"language": "nl"}
        first = self.debtor("D-1001", "Bakkerij Het Zoete Brood", "info@zoetebrood.example", rep)
        due = self.today - dt.timedelta(days=9)
        item = self.item(first, "2026-D1001-1", due, Decimal("845.50"))
        disputed = self.today - dt.timedelta(days=20)
        self.item(first, "2026-D1001-2", disputed, Decimal("312.40"), "dispute", Decimal("312.40"))
        # Their invoices' documents, so a copy request (M4) can be answered with the file:
        # a PDF, and a UBL invoice embedding one; the generated debtors' items have none.
        pdf = invoice_pdf("2026-D1001-1", "Bakkerij Het Zoete Brood", "845.50", due)
        self.document(item, "2026-D1001-1.pdf", PDF, pdf)
        nl = {"language": "nl"}
        second = self.debtor("D-1002", "Garage Van Dijk", "admin@garagevandijk.example", nl)
        due = self.today - dt.timedelta(days=50)
        item = self.item(second, "2026-D1002-1", due, Decimal("2310.00"))
        pdf = invoice_pdf("2026-D1002-1", "Garage Van Dijk", "2310.00", due)
        self.document(item, "2026-D1002-1.xml", UBL, ubl_with_pdf("2026-D1002-1", pdf))
        self.notices(second, "D-1002", [40, 15])

    def generated_debtor(self, number: int) -> None:
        rng = self.rng
        key = f"D-{number}"
        first_word = rng.choice(FIRST_WORDS)
        name = f"{first_word} {rng.choice(LAST_WORDS)}"
        slug = name.lower().replace(" ", "").replace("ä", "ae").replace("ü", "ue")
        email = f"debiteuren@{slug}{number}.example" if rng.random() < 0.85 else ""
        german = first_word in GERMAN_WORDS
        extra: dict[str, Any] = {
            "language": "de" if german else "nl",
            "phone": f"{'+49 30' if german else '+31 20'} {rng.randint(100, 999)} "
            f"{rng.randint(1000, 9999)}",
            "preferred_contact": rng.choice(["email", "email", "letter", "phone"]),
            "problematic": rng.random() < 0.08,
            "custom_1": rng.choice(REGIONS),
            # Three sales representatives (not drawn: the seeded draws stay as they were).
            "sales_rep_email": f"verkoop{number % 3 + 1}@demo.example",
        }
        if rng.random() < 0.7:
            extra["credit_limit"] = rng.choice(["1000.00", "2500.00", "5000.00"])
        subject_id = self.debtor(key, name, email, extra)
        oldest_overdue = 0
        for index in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            issued = self.today - dt.timedelta(days=rng.randint(0, 90))
            due = issued + dt.timedelta(days=rng.choice([14, 30]))
            amount = Decimal(rng.randint(4_000, 400_000)).scaleb(-2)
            status, open_amount = self.state(amount)
            self.item(subject_id, f"2026-{number}-{index + 1}", due, amount, status, open_amount)
            if status != "paid" and due < self.today:
                oldest_overdue = max(oldest_overdue, (self.today - due).days)
        # A workflow reminded some of the overdue ones already: a notice 8-30 days ago,
        # or two with the last 14-40 days ago.
        if oldest_overdue > 20 and rng.random() < 0.45:
            ago = rng.randint(8, min(30, oldest_overdue - 7))
            if rng.random() < 0.4:
                self.notices(subject_id, key, [ago + rng.randint(10, 20), ago + 6])
            else:
                self.notices(subject_id, key, [ago])

    def state(self, amount: Decimal) -> tuple[str, Decimal]:
        """Most invoices are open; some paid, part paid, disputed or promised."""
        roll = self.rng.random()
        if roll < 0.2:
            return "paid", Decimal("0.00")
        if roll < 0.26:
            return "open", (amount / 2).quantize(Decimal("0.01"))
        if roll < 0.31:
            return "dispute", amount
        if roll < 0.34:
            return "promise", amount
        return "open", amount

    def debtor(self, key: str, name: str, email: str, extra: dict[str, Any]) -> uuid.UUID:
        subject_id = new_id()
        fields = {"name": name, "problematic": False, **extra}
        if email:
            fields["email"] = email
        self.rows.subjects.append(
            {
                "id": subject_id,
                "tenant_id": self.tenant_id,
                "type": "debtor",
                "key": key,
                "status": "active",
                "fields": fields,
                "version": 1,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        self.done.debtors += 1
        self.done.keys.append(key)
        return subject_id

    def item(
        self,
        debtor_id: uuid.UUID,
        number: str,
        due: dt.date,
        amount: Decimal,
        status: str = "open",
        open_amount: Decimal | None = None,
    ) -> uuid.UUID:
        open_amount = amount if open_amount is None else open_amount
        item_id = new_id()
        self.rows.items.append(
            {
                "id": item_id,
                "tenant_id": self.tenant_id,
                "debtor_id": debtor_id,
                "kind": "invoice",
                "number": number,
                "issue_date": due - dt.timedelta(days=30),
                "due_date": due,
                "amount": amount,
                "open_amount": open_amount,
                "currency": "EUR",
                "status": status,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        self.done.items += 1
        if open_amount < amount:  # paid in full or in part: the bank said so
            paid_on = min(due + dt.timedelta(days=self.rng.randint(-10, 20)), self.today)
            self.rows.payments.append(
                {
                    "id": new_id(),
                    "tenant_id": self.tenant_id,
                    "debtor_id": debtor_id,
                    "open_item_id": item_id,
                    "amount": amount - open_amount,
                    "currency": "EUR",
                    "paid_on": paid_on,
                    "reference": f"Factuur {number}",
                    "status": "matched",
                    "created_at": self.now,
                    "bank_reference": f"DEMO/{number}",
                    "source": "bank",
                    "remittance": f"Factuur {number}",
                    "matched_by": "invoice_number",
                }
            )
            self.done.payments += 1
        return item_id

    def document(self, item_id: uuid.UUID, name: str, media_type: str, content: bytes) -> None:
        self.rows.documents.append(
            {
                "open_item_id": item_id,
                "tenant_id": self.tenant_id,
                "filename": name,
                "media_type": media_type,
                "size": len(content),
                "content": content,
                "created_at": self.now,
            }
        )

    def notices(self, debtor_id: uuid.UUID, key: str, days_ago: list[int]) -> None:
        """Reminders a workflow sent (one completed instance each), oldest first."""
        if self.notices_version is None:
            return
        for ago in sorted(days_ago, reverse=True):
            sent = self.now - dt.timedelta(days=ago)
            instance_id = new_id()
            self.rows.instances.append(
                {
                    "id": instance_id,
                    "tenant_id": self.tenant_id,
                    "flow_version_id": self.notices_version,
                    "subject_id": debtor_id,
                    "status": "completed",
                    "variables": {},
                    "started_by": "schedule",
                    "started_at": sent,
                    "updated_at": sent,
                    "ended_at": sent,
                }
            )
            base = {
                "tenant_id": self.tenant_id,
                "instance_id": instance_id,
                "subject_id": debtor_id,
                "at": sent,
                "actor": "system",
                "to_node_id": None,
                "port": None,
                "reason": None,
            }
            self.rows.history += [
                {**base, "kind": "instance_started", "node_id": None, "data": {"version": 1}},
                {
                    **base,
                    "kind": "letter_queued",
                    "node_id": "letter",
                    "data": {
                        "to": [],
                        "subject": "Payment reminder (level 1)",
                        "mark": "dunning_notice",
                    },
                },
                {**base, "kind": "instance_completed", "node_id": "end", "data": {}},
            ]
            self.done.notices += 1
