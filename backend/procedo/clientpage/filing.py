"""Submitting a return the client approved: a provider interface, and the stub that ships.

The SBR submission to the tax office (Digipoort) is out of scope: a real provider
implements ``FilingProvider`` and is set with ``use``. The stub records a
receipt and sends nothing anywhere, so a flow runs end to end and says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Filing:
    request_id: uuid.UUID
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    title: str
    on_behalf_of: str
    approved_by: str
    at: dt.datetime


@dataclass(frozen=True)
class Receipt:
    provider: str
    reference: str
    status: str  # "accepted" by the provider, or "stub" when nothing was sent


class FilingProvider(Protocol):
    name: str

    def submit(self, filing: Filing) -> Receipt: ...


class StubProvider:
    """Sends nothing: a receipt with a reference derived from the request, status ``stub``."""

    name = "stub"

    def submit(self, filing: Filing) -> Receipt:
        reference = hashlib.sha256(str(filing.request_id).encode()).hexdigest()[:12].upper()
        return Receipt(self.name, f"STUB-{reference}", "stub")


_provider: FilingProvider = StubProvider()


def provider() -> FilingProvider:
    return _provider


def use(chosen: FilingProvider) -> None:
    """Set the provider every submission goes to (a real SBR client, or a test double)."""
    global _provider
    _provider = chosen
