"""CSV imports of debtors and open items: upserts by number, bad rows named, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db.models import Base, Subject, Tenant
from procedo.db.receivables import OpenItem
from procedo.db.session import Database
from procedo.receivables import imports
from procedo.receivables.imports import import_debtors, import_open_items

DEBTORS = """number,name,email,credit_limit,preferred_contact,custom_1
D1,Bakkerij Jansen,info@jansen.nl,2500.00,email,A
D2,Müller GmbH,,1000,letter,
"""
ITEMS = """debtor_number;number;issue_date;due_date;amount;open_amount;status
D1;F-1;2026-01-01;2026-01-31;1210,00;605,50;open
D1;F-2;2026-02-01;2026-03-03;-100.00;-100.00;
D2;F-3;2026-02-01;2026-03-03;50.00;0.00;
"""


@pytest.fixture
def tenant(db_url: str) -> Iterator[tuple[sa.Engine, uuid.UUID]]:
    db = Database(db_url)
    Base.metadata.create_all(db.engine)
    tenant_id = uuid.uuid4()
    with db.engine.begin() as connection:
        connection.execute(sa.insert(Tenant).values(id=tenant_id, name="T", slug="t"))
    yield db.engine, tenant_id
    db.dispose()


def write(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def debtors(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(Subject.key, Subject.fields, Subject.type)).all()
    return {key: fields for key, fields, kind in rows if kind == "debtor"}


def items(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                OpenItem.number, OpenItem.kind, OpenItem.open_amount, OpenItem.status, Subject.key
            ).join(Subject, Subject.id == OpenItem.debtor_id)
        ).all()
    return {number: tuple(rest) for number, *rest in rows}


def test_debtors_and_items_in_and_again(
    tenant: tuple[sa.Engine, uuid.UUID], tmp_path: Path
) -> None:
    engine, tenant_id = tenant
    report = import_debtors(engine, tenant_id, write(tmp_path, DEBTORS))
    assert (report.stored, report.problems) == (2, [])
    stored = debtors(engine)
    assert stored["D1"] == {
        "name": "Bakkerij Jansen",
        "email": "info@jansen.nl",
        "credit_limit": "2500.00",
        "preferred_contact": "email",
        "custom_1": "A",
    }
    assert stored["D2"]["name"] == "Müller GmbH"
    assert import_open_items(engine, tenant_id, write(tmp_path, ITEMS)).stored == 3
    assert items(engine) == {
        "F-1": ("invoice", Decimal("605.50"), "open", "D1"),
        "F-2": ("credit_note", Decimal("-100.00"), "open", "D1"),
        "F-3": ("invoice", Decimal("0.00"), "paid", "D2"),
    }

    # The next night's export: D1's email cleared and its limit raised; fields the file
    # does not name (set by flows) stay; F-1 partly paid and moved to D2.
    with engine.begin() as connection:
        connection.execute(
            sa.update(Subject)
            .where(Subject.key == "D1")
            .values(fields={**stored["D1"], "dunning_level": 2})
        )
    again = "number,name,email,credit_limit\nD1,Bakkerij Jansen,,3000\n"
    assert import_debtors(engine, tenant_id, write(tmp_path, again)).stored == 1
    d1 = debtors(engine)["D1"]
    assert (d1["credit_limit"], d1.get("email"), d1["dunning_level"], d1["custom_1"]) == (
        "3000",
        None,
        2,
        "A",
    )
    moved = "debtor_number,number,issue_date,due_date,amount,open_amount\n"
    moved += "D2,F-1,2026-01-01,2026-01-31,1210.00,5.50\n"
    assert import_open_items(engine, tenant_id, write(tmp_path, moved)).stored == 1
    assert items(engine)["F-1"] == ("invoice", Decimal("5.50"), "open", "D2")
    assert len(items(engine)) == 3
    assert len(debtors(engine)) == 2


BAD_ITEMS = """debtor_number,number,issue_date,due_date,amount,open_amount
D1,F-1,2026-01-01,2026-01-31,10.00,10.00
D1,F-2,2026-01-01,31-01-2026,10.00,10.00
D1,F-3,2026-01-01,2026-01-31,"1,234.00",10.00
D9,F-4,2026-01-01,2026-01-31,10.00,10.00
D1,F-1,2026-01-01,2026-01-31,10.00,10.00
D1,F-5,2026-01-01,2026-01-31,10.00
"""


def test_bad_rows_are_named_and_nothing_is_stored(
    tenant: tuple[sa.Engine, uuid.UUID], tmp_path: Path
) -> None:
    engine, tenant_id = tenant
    import_debtors(engine, tenant_id, write(tmp_path, DEBTORS))
    report = import_open_items(engine, tenant_id, write(tmp_path, BAD_ITEMS))
    assert report.refused
    assert report.stored == 0
    assert [str(problem) for problem in report.problems] == [
        "line 3, column 4 (due_date): '31-01-2026' is no date; write YYYY-MM-DD (2026-03-31)",
        "line 4, column 5 (amount): '1,234.00' is no amount; write digits with at most two "
        "decimals after a point or comma, without thousands separators (1234.50)",
        "line 5, column 1 (debtor_number): no debtor 'D9'; import the debtors first",
        "line 6: number 'F-1' was already on line 2",
        "line 7: has 5 cells where the header names 6",
    ]
    assert items(engine) == {}

    skipped = import_open_items(engine, tenant_id, write(tmp_path, BAD_ITEMS), skip_bad=True)
    assert (skipped.refused, skipped.stored, len(skipped.problems)) == (False, 1, 5)
    assert set(items(engine)) == {"F-1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty; the first line names the columns"),
        ("number,name,emial\n", "line 1, column 3 (emial): is not a column of this file"),
        ("name\nJansen\n", "line 1: the header lacks the column(s) number"),
        ("number,name\nD1,\n", "line 2, column 2 (name): is empty; it is required"),
        ("number,name\nD1,A\nD2,\xff\n", "line 3: is not UTF-8"),
        ('number,name\nD1,"A\nB"\nD2,C,x\n', "line 4: has 3 cells"),
    ],
)
def test_unreadable_files_are_refused_with_the_place(
    tenant: tuple[sa.Engine, uuid.UUID], tmp_path: Path, text: str, message: str
) -> None:
    engine, tenant_id = tenant
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
    report = import_debtors(engine, tenant_id, path)
    assert report.refused
    assert str(report.problems[0]).startswith(message)
    assert debtors(engine) == {}


def test_batches_not_rows_go_to_the_database(
    tenant: tuple[sa.Engine, uuid.UUID], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, tenant_id = tenant
    monkeypatch.setattr(imports, "BATCH", 100)
    lines = ["number,name"] + [f"D{n},Debtor {n}" for n in range(1000)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    import_debtors(engine, tenant_id, path)
    items_csv = ["debtor_number,number,issue_date,due_date,amount,open_amount"] + [
        f"D{n % 1000},F{n},2026-01-01,2026-01-31,{n}.25,{n}.25" for n in range(1000)
    ]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        report = import_open_items(engine, tenant_id, write(tmp_path, "\n".join(items_csv)))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert report.stored == 1000
    # Per batch of 100: one query for its debtors and one upsert (an executemany).
    assert len([s for s in statements if "open_items" in s or "subjects" in s]) <= 25
    with engine.connect() as connection:
        total = connection.scalar(sa.select(sa.func.sum(OpenItem.open_amount)))
    assert total == Decimal(sum(range(1000))) + Decimal("250.00")


def test_the_command(tmp_path: Path) -> None:
    env = {**os.environ, "PROCEDO_DATA_DIR": str(tmp_path / "data")}
    env.pop("PROCEDO_DATABASE_URL", None)

    def procedo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "procedo", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    assert procedo("db", "upgrade").returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'procedo.db'}")
    with db.engine.begin() as connection:
        connection.execute(sa.insert(Tenant).values(id=uuid.uuid4(), name="T", slug="acme"))
    db.dispose()
    good = procedo("import", "debtors", str(write(tmp_path, DEBTORS)))
    assert good.returncode == 0, good.stderr
    assert "2 debtors stored" in good.stdout
    bad = procedo("import", "open-items", str(write(tmp_path, BAD_ITEMS, "bad.csv")))
    assert bad.returncode == 1
    assert "line 3, column 4 (due_date)" in bad.stderr
    assert "nothing stored: 5 bad row(s)" in bad.stderr
    skipped = procedo("import", "open-items", "--skip-bad", str(tmp_path / "bad.csv"))
    assert "1 open items stored, 5 bad row(s) skipped" in skipped.stdout


def test_progress_per_batch_and_a_late_bad_row_undoes_the_written_batches(
    tenant: tuple[sa.Engine, uuid.UUID], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, tenant_id = tenant
    monkeypatch.setattr(imports, "BATCH", 100)
    lines = ["number,name"] + [f"D{n},Debtor {n}" for n in range(450)]
    seen: list[int] = []
    report = import_debtors(
        engine, tenant_id, write(tmp_path, "\n".join(lines)), progress=seen.append
    )
    assert seen == [100, 200, 300, 400, 450]
    assert (report.stored, report.created, report.updated) == (450, 450, 0)

    # Four batches are written before the bad row on line 452 is read: all are undone.
    items_csv = ["debtor_number,number,issue_date,due_date,amount,open_amount"] + [
        f"D{n},F{n},2026-01-01,2026-01-31,10.00,10.00" for n in range(450)
    ]
    items_csv.append("D1,F-last,2026-01-01,someday,10.00,10.00")
    refused = import_open_items(engine, tenant_id, write(tmp_path, "\n".join(items_csv)))
    assert refused.refused
    assert [str(p) for p in refused.problems] == [
        "line 452, column 4 (due_date): 'someday' is no date; write YYYY-MM-DD (2026-03-31)"
    ]
    assert items(engine) == {}
    again = import_debtors(engine, tenant_id, write(tmp_path, "\n".join(lines)))
    assert (again.stored, again.created, again.updated) == (450, 0, 450)
