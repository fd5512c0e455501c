"""``procedo import bank FILE``: a CAMT.053 bank statement's booked credits in, as payments.

The statement is read whole first (``camt.py``); a statement with any problem
is refused with each problem's line and element, and nothing is stored. The
payments are then stored, matched and announced in one transaction
(``payments.py``); a statement imported again stores nothing twice. Exit 1
when the statement was refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

SHOWN_PROBLEMS = 50


@click.command("bank")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--tenant", "slug", help="The tenant's slug (may be left out if there is one).")
@click.option("--dry-run", is_flag=True, help="Read and check the statement; store nothing.")
@click.option(
    "--actor", default="procedo import bank", show_default=True, help="Recorded as sender."
)
def import_bank_command(file: Path, slug: str | None, dry_run: bool, actor: str) -> None:
    """An ISO 20022 CAMT.053 bank statement (camt.053.001.02 or later).

    Each booked credit becomes a payment, matched to an open item by the
    structured creditor reference, the invoice number in the remittance text, or
    the debtor and amount; the others wait on the unmatched list
    (GET /api/v1/payments?status=unmatched). docs/receivables.md has the rules.
    """
    from procedo.receivables.camt import MAX_BYTES, CamtError, read_statement

    size = file.stat().st_size
    if size > MAX_BYTES:  # never read into memory
        _refuse(file, [f"the statement has {size:,} bytes; at most {MAX_BYTES:,} are accepted"])
    try:
        statement = read_statement(file.read_bytes())
    except CamtError as exc:
        _refuse(file, [f"{p.where()}: {p.message}" for p in exc.problems])
    skipped = f"; {statement.skipped} entries skipped (debits, not booked, reversed)"
    if dry_run:
        total = sum(p.amount for p in statement.payments)
        click.echo(
            f"{file}: {statement.version}, {len(statement.payments)} payments in "
            f"({total} in all){skipped}; nothing stored (--dry-run)"
        )
        return
    from procedo.db.session import Database
    from procedo.receivables.payments import from_statement, record_payments
    from procedo.runtime.context import Runtime
    from procedo.settings import load_settings
    from procedo.ubl.cli import _tenant_id, _WorkHere

    settings = load_settings()
    here = _WorkHere()
    if settings.embedded:
        rt = Runtime(db=Database(settings.database_url), dispatcher=here)
    else:
        from procedo.worker.process import build_runtime

        rt, _actors = build_runtime(settings)
    try:
        tenant_id = _tenant_id(rt, slug)
        incoming = from_statement(statement)
        recorded = record_payments(rt, tenant_id, incoming, actor)
        here.run(rt)  # without a broker, this process lets the flows react
    finally:
        rt.db.dispose()
    stored = len(recorded.payments)
    click.echo(
        f"{file}: {stored} payments stored ({recorded.matched} matched, "
        f"{stored - recorded.matched} unmatched), {recorded.already} already stored{skipped}"
    )


def _refuse(file: Path, problems: list[str]) -> NoReturn:
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"{file}: {problem}", err=True)
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"... and {len(problems) - SHOWN_PROBLEMS} more problems", err=True)
    click.echo(f"{file}: refused, nothing stored", err=True)
    sys.exit(1)
