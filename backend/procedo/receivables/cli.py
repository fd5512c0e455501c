"""``procedo import debtors FILE.csv`` and ``procedo import open-items FILE.csv``.

The columns and rules are in docs/receivables.md. Exit 1 when the file had bad
rows: then nothing was stored, unless ``--skip-bad`` stored the good ones.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from procedo.db.session import Database
    from procedo.receivables.imports import ImportReport

SHOWN_PROBLEMS = 50


@click.group("import")
def import_group() -> None:
    """Bring receivables in from an ERP's CSV export (docs/receivables.md)."""


def _options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False)),
            click.option(
                "--tenant", "slug", help="The tenant's slug (may be left out if there is one)."
            ),
            click.option(
                "--skip-bad",
                is_flag=True,
                help="Store the good rows and list the bad ones skipped.",
            ),
        ]
    ):
        command = option(command)
    return command


@import_group.command("debtors")
@_options
def import_debtors_command(file: Path, slug: str | None, skip_bad: bool) -> None:
    """Debtors by number: new ones added, known ones updated (the file's columns only)."""
    from procedo.receivables.imports import import_debtors

    _run(import_debtors, file, slug, skip_bad, "debtors")


@import_group.command("open-items")
@_options
def import_open_items_command(file: Path, slug: str | None, skip_bad: bool) -> None:
    """Open items (invoices, credit notes) by number, each for a debtor already imported."""
    from procedo.receivables.imports import import_open_items

    _run(import_open_items, file, slug, skip_bad, "open items")


def _run(
    importer: Callable[..., ImportReport], file: Path, slug: str | None, skip_bad: bool, what: str
) -> None:
    from procedo.db.session import Database
    from procedo.settings import load_settings

    settings = load_settings()
    db = Database(settings.database_url)
    try:
        tenant_id = _tenant_id(db, slug)

        def progress(stored: int) -> None:
            if stored and stored % 100_000 < 5_000:
                click.echo(f"... {stored:,} {what}", err=True)

        report = importer(db.engine, tenant_id, file, skip_bad=skip_bad, progress=progress)
    finally:
        db.dispose()
    for problem in report.problems[:SHOWN_PROBLEMS]:
        click.echo(f"{file}: {problem}", err=True)
    if len(report.problems) > SHOWN_PROBLEMS:
        click.echo(f"... and {len(report.problems) - SHOWN_PROBLEMS} more problems", err=True)
    if report.refused:
        click.echo(
            f"{file}: nothing stored: {len(report.problems)} bad row(s); fix them, or "
            "import with --skip-bad to store the others",
            err=True,
        )
        sys.exit(1)
    skipped = f", {len(report.problems)} bad row(s) skipped" if report.problems else ""
    click.echo(f"{file}: {report.stored:,} {what} stored{skipped}")
    if report.problems:
        sys.exit(1)


def _tenant_id(db: Database, slug: str | None) -> uuid.UUID:
    import sqlalchemy as sa

    from procedo.db.models import Tenant

    with db.engine.connect() as connection:
        tenants = connection.execute(sa.select(Tenant.id, Tenant.slug)).all()
    known = ", ".join(sorted(found for _id, found in tenants)) or "none (create one first)"
    if slug is not None:
        for ident, found in tenants:
            if found == slug:
                return ident
        raise click.ClickException(f"no tenant '{slug}'; known: {known}")
    if len(tenants) == 1:
        return tenants[0][0]
    raise click.ClickException(f"name the tenant with --tenant SLUG; known: {known}")
