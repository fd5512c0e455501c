"""Which open item a payment pays: pure decisions over the candidates read for a batch.

In order of trust (docs/receivables.md, "Payments and bank statements"):

1. a structured creditor reference (ISO 11649 RF, or the Dutch 16-digit
   betalingskenmerk, check digits valid), given as such or typed into the
   remittance text, that is an open item's payment reference or number;
2. an open item's number in the remittance text;
3. the debtor (by IBAN seen before or on the debtor, else by name) and the amount:
   the debtor's oldest-due item open for exactly that amount.

A step that names no item, or several, falls through to the next; a payment
that none of them places stays unmatched for a person (with its debtor when the
debtor was recognised). Only items not yet paid, with an amount open and in the
payment's currency, are candidates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from procedo.receivables.references import compact, structured

BY_REFERENCE: Final = "creditor_reference"
BY_NUMBER: Final = "invoice_number"
BY_AMOUNT: Final = "amount_debtor"
BY_PERSON: Final = "person"

# Invoice numbers as people type them: letters, digits and - / . _ inside; three or more.
_TOKEN: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z/_.-]*[0-9A-Za-z]")
_WORDS: Final = re.compile(r"\s+")


@dataclass(slots=True)
class Candidate:
    """An open item as matching sees it; ``open_amount``/``status`` change as payments apply."""

    id: uuid.UUID
    debtor_id: uuid.UUID
    number: str
    payment_reference: str
    open_amount: Decimal
    currency: str
    status: str
    due_date: dt.date

    def payable(self, currency: str) -> bool:
        return self.status != "paid" and self.open_amount > 0 and self.currency == currency


@dataclass(frozen=True, slots=True)
class Incoming:
    """What matching reads of a payment."""

    amount: Decimal
    currency: str
    debtor_name: str = ""
    debtor_iban: str = ""
    creditor_reference: str = ""
    remittance: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    item: Candidate | None
    debtor_id: uuid.UUID | None
    how: str = ""


@functools.lru_cache(maxsize=65536)  # read twice per payment: for the queries, and to match
def references_in(payment: Incoming) -> tuple[str, ...]:
    """Valid structured references: the one given, then any typed into the text."""
    found: list[str] = []
    given = structured(payment.creditor_reference)
    if given:
        found.append(given)
    # "RF18 5390 0754 7034" and "5000 0567 8901 2345" are typed in groups of four.
    text = compact(payment.remittance)
    for match in re.finditer(r"RF\d{2}[0-9A-Z]{1,21}|\d{16}", text):
        for length in range(len(match.group()), 4, -1):  # RF runs into the next word
            ref = structured(match.group()[:length])
            if ref:
                if ref not in found:
                    found.append(ref)
                break
    return tuple(found)


@functools.lru_cache(maxsize=65536)
def tokens_in(payment: Incoming) -> frozenset[str]:
    """The words of the remittance text that could be invoice numbers, upper-cased."""
    words: set[str] = set()
    for text in (payment.remittance, payment.creditor_reference):
        words.update(token.upper() for token in _TOKEN.findall(text))
    return frozenset(words)


def name_key(name: str) -> str:
    """A debtor's name compared without case and runs of spaces."""
    return _WORDS.sub(" ", name).strip().casefold()


@dataclass
class Candidates:
    """The open items and debtors read for a batch, indexed the ways matching looks."""

    by_reference: Mapping[str, list[Candidate]]
    by_number: Mapping[str, list[Candidate]]
    by_debtor: Mapping[uuid.UUID, list[Candidate]]
    debtor_by_iban: Mapping[str, uuid.UUID]
    debtor_by_name: Mapping[str, uuid.UUID]


def index_candidates(
    items: Iterable[Candidate],
    debtor_by_iban: Mapping[str, uuid.UUID],
    debtor_by_name: Mapping[str, uuid.UUID],
) -> Candidates:
    by_reference: dict[str, list[Candidate]] = {}
    by_number: dict[str, list[Candidate]] = {}
    by_debtor: dict[uuid.UUID, list[Candidate]] = {}
    for item in items:
        if item.payment_reference:
            by_reference.setdefault(compact(item.payment_reference), []).append(item)
        by_number.setdefault(item.number.upper(), []).append(item)
        by_debtor.setdefault(item.debtor_id, []).append(item)
    for listed in by_debtor.values():
        listed.sort(key=lambda item: (item.due_date, item.number))
    return Candidates(by_reference, by_number, by_debtor, debtor_by_iban, debtor_by_name)


def _one(items: Iterable[Candidate], payment: Incoming) -> Candidate | None:
    payable = {item.id: item for item in items if item.payable(payment.currency)}
    if len(payable) == 1:
        return next(iter(payable.values()))
    # Several named (a number that is also a reference): the one open for this amount.
    exact = [item for item in payable.values() if item.open_amount == payment.amount]
    return exact[0] if len(exact) == 1 else None


def match(payment: Incoming, candidates: Candidates) -> Match:
    """The open item the payment pays, how that was found, and the debtor; or no item."""
    for ref in references_in(payment):
        named = candidates.by_reference.get(ref, []) + candidates.by_number.get(ref, [])
        item = _one(named, payment)
        if item is not None:
            return Match(item, item.debtor_id, BY_REFERENCE)
    named = [item for token in tokens_in(payment) for item in candidates.by_number.get(token, [])]
    item = _one(named, payment)
    if item is not None:
        return Match(item, item.debtor_id, BY_NUMBER)
    debtor = candidates.debtor_by_iban.get(payment.debtor_iban) if payment.debtor_iban else None
    if debtor is None and payment.debtor_name:
        debtor = candidates.debtor_by_name.get(name_key(payment.debtor_name))
    if debtor is None:
        debtors = {item.debtor_id for item in named}
        return Match(None, debtors.pop() if len(debtors) == 1 else None)
    # The debtor's oldest-due item open for exactly this amount: a debtor pays the oldest.
    for item in candidates.by_debtor.get(debtor, []):
        if item.payable(payment.currency) and item.open_amount == payment.amount:
            return Match(item, debtor, BY_AMOUNT)
    return Match(None, debtor)


def apply(item: Candidate, amount: Decimal) -> tuple[Decimal, Decimal]:
    """Pay ``amount`` on the item: what was applied, and what is left over (overpaid)."""
    applied = min(amount, item.open_amount)
    item.open_amount -= applied
    if item.open_amount == 0:
        item.status = "paid"
    return applied, amount - applied
