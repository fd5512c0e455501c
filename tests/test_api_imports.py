"""Imports over HTTP (multipart uploads), on SQLite and PostgreSQL: the command's semantics."""

from __future__ import annotations

import ast
import re
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.api.resources import imports as import_api
from procedo.api.server import Backend
from procedo.db.models import Subject
from procedo.db.receivables import OpenItem, Payment
from procedo.untrusted_xml import Refusal
from tests.api_helpers import Office, office, ok
from tests.camt_build import Entry, statement
from tests.conftest import ROOT
from tests.test_bank_camt import LAUGHS, XXE

DEBTORS = """number;name;email;credit_limit
D-1;Bakkerij Jansen;info@jansen.nl;2500,00
D-2;Müller GmbH;not-an-address;1000
D-3;Atelier Noord;;
"""
ITEMS = """debtor_number,number,issue_date,due_date,amount,open_amount
D-1,F-1,2026-01-01,2026-01-31,121.00,121.00
D-3,F-2,2026-01-01,31-01-2026,10.00,10.00
"""


def upload(
    who: Office, what: str, content: bytes, skip_bad: str | None = None, name: str = "file.csv"
) -> httpx.Response:
    data = {"skip_bad": skip_bad} if skip_bad is not None else None
    return who.http.post(f"/imports/{what}", files={"file": (name, content)}, data=data)


def debtors(backend: Backend) -> dict[str, dict[str, Any]]:
    with backend.runtime.db.read() as session:
        rows = session.execute(
            sa.select(Subject.key, Subject.fields).where(Subject.type == "debtor")
        )
        return dict(rows.all())


def items(backend: Backend) -> dict[str, Decimal]:
    with backend.runtime.db.read() as session:
        rows = session.execute(sa.select(OpenItem.number, OpenItem.open_amount))
        return dict(rows.all())


def test_a_file_with_a_bad_row_stores_nothing_unless_skip_bad(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Imports")
    refused = upload(acme, "debtors", DEBTORS.encode())
    report = ok(refused, 422)
    assert (report["refused"], report["stored"], report["problem_count"]) == (True, 0, 1)
    assert report["detail"].startswith("nothing stored: 1 bad row(s)")
    assert report["problems"] == [
        {
            "code": "csv.email",
            "message": "'not-an-address' is no email address",
            "line": 3,
            "column": 3,
            "path": "email",
            "params": {"value": "not-an-address"},
        }
    ]
    assert debtors(backend) == {}

    stored = ok(upload(acme, "debtors", DEBTORS.encode(), skip_bad="true"))
    assert (stored["refused"], stored["stored"], stored["created"], stored["skipped"]) == (
        False,
        2,
        2,
        1,
    )
    assert [p["line"] for p in stored["problems"]] == [3]
    assert debtors(backend)["D-1"]["credit_limit"] == "2500.00"
    assert set(debtors(backend)) == {"D-1", "D-3"}

    # The next night's export again: the same debtors updated, none new.
    again = ok(upload(acme, "debtors", DEBTORS.encode(), skip_bad="true"))
    assert (again["stored"], again["created"], again["updated"]) == (2, 0, 2)

    bad_items = ok(upload(acme, "open-items", ITEMS.encode()), 422)
    assert [(p["line"], p["column"], p["code"]) for p in bad_items["problems"]] == [
        (3, 4, "csv.date")
    ]
    assert items(backend) == {}
    good = ok(upload(acme, "open-items", ITEMS.encode(), skip_bad="1"))
    assert (good["stored"], good["skipped"]) == (1, 1)
    assert items(backend) == {"F-1": Decimal("121.00")}


def test_unknown_debtors_and_unreadable_files_are_named(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Unknown")
    unknown = ok(
        upload(acme, "open-items", ITEMS.replace("31-01-2026", "2026-01-31").encode()), 422
    )
    assert [(p["line"], p["path"], p["code"], p["params"]) for p in unknown["problems"]] == [
        (2, "debtor_number", "csv.unknown_debtor", {"value": "D-1"}),
        (3, "debtor_number", "csv.unknown_debtor", {"value": "D-3"}),
    ]
    header = ok(upload(acme, "debtors", b"number,name,emial\nD1,A,x\n"), 422)
    assert header["problems"][0]["code"] == "csv.unknown_column"
    assert (header["problems"][0]["line"], header["problems"][0]["column"]) == (1, 3)
    assert debtors(backend) == {}


def test_the_upload_is_checked_before_anything_is_read(
    backend: Backend, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = office(backend.runtime, base_url, "Acme Limits")
    as_json = acme.http.post("/imports/debtors", json={"file": "number,name"})
    assert ok(as_json, 415)["detail"].startswith("send the file as multipart/form-data")
    no_file = acme.http.post("/imports/debtors", data={"skip_bad": "true"}, files={"x": ("a", b"")})
    assert no_file.status_code == 400
    maybe = upload(acme, "debtors", DEBTORS.encode(), skip_bad="perhaps")
    assert ok(maybe, 400)["detail"] == "skip_bad: true or false (was 'perhaps')"

    monkeypatch.setattr(import_api, "MAX_CSV_BYTES", 100)
    large = ok(upload(acme, "debtors", b"number,name\n" + b"D1,A\n" * 30), 413)
    assert large["detail"].startswith("the upload is larger than 0 MB (100 bytes)")
    assert "procedo import debtors FILE" in large["detail"]
    assert debtors(backend) == {}


def test_only_designers_and_admins_import_csv(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Access")
    user, _password = accounts.add_user(backend.runtime, acme.tenant_id, "eva@acme.example")
    _row, token = accounts.create_token(backend.runtime, acme.tenant_id, user.id, "test")
    member = Office(
        acme.slug,
        acme.tenant_id,
        user.email,
        "",
        token,
        httpx.Client(
            base_url=str(acme.http.base_url), headers={"Authorization": f"Bearer {token}"}
        ),
    )
    refused = upload(member, "debtors", DEBTORS.encode(), skip_bad="true")
    assert (
        ok(refused, 403)["detail"] == "this needs admin or designer access; you have member access"
    )
    assert debtors(backend) == {}


def test_bank_statements_in_and_hostile_ones_refused(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Bank")
    ok(upload(acme, "debtors", b"number,name\nD-1,Bakkerij Jansen\n"))
    ok(
        upload(
            acme,
            "open-items",
            ITEMS.splitlines()[0].encode() + b"\nD-1,F-7,2026-11-01,2026-11-30,80.00,80.00\n",
        )
    )
    for hostile in (XXE, LAUGHS):
        refused = ok(upload(acme, "bank", hostile, name="statement.xml"), 400)
        assert refused["refused"] is True
        assert refused["problems"][0]["code"] == "camt.doctype"
        assert refused["problems"][0]["line"] == 2
        assert "DOCTYPE or ENTITY declaration is not allowed" in refused["detail"]
    with backend.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0

    xml = statement([Entry("80.00", remittance="Factuur F-7"), Entry("5.00")])
    report = ok(upload(acme, "bank", xml, name="statement.xml"))
    assert (report["stored"], report["matched"], report["unmatched"]) == (2, 1, 1)
    assert items(backend)["F-7"] == Decimal("0.00")
    again = ok(upload(acme, "bank", xml, name="statement.xml"))
    assert (again["stored"], again["already_stored"]) == (0, 2)
    skip = upload(acme, "bank", xml, skip_bad="true", name="statement.xml")
    assert "taken whole or not at all" in ok(skip, 400)["detail"]


def _codes_in(module: Path) -> set[str]:
    """The codes a module's CsvProblem(..., code) and CellError(code, ...) calls give."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        position = {"CsvProblem": 4, "CellError": 0}.get(node.func.id)
        if position is not None and len(node.args) > position:
            argument = node.args[position]
            if isinstance(argument, ast.Constant):  # else a code passed on (exc.code)
                found.add(f"csv.{argument.value}")
    return found


def test_the_designer_words_every_problem_code() -> None:
    backend = ROOT / "backend" / "procedo"
    codes = _codes_in(backend / "receivables" / "csvfile.py")
    codes |= _codes_in(backend / "receivables" / "imports.py")
    assert {"csv.date", "csv.unknown_debtor", "csv.duplicate", "csv.not_utf8"} <= codes
    camt = (backend / "receivables" / "camt.py").read_text()
    codes |= {f"camt.{code}" for code in re.findall(r'"camt\.(\w+)"', camt)}
    codes |= {f"camt.{kind}" for kind in typing.get_args(Refusal)}
    texts = (ROOT / "designer" / "src" / "texts" / "imports.ts").read_text()
    worded = set(re.findall(r'"imp_([a-z]+\.[a-z_0-9]+)":', texts))
    assert sorted(codes - worded) == []
