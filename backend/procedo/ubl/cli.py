"""``procedo ingest FILE.xml...``: UBL invoices into a tenant, or ``--dry-run`` to see the fields.

The database, the runtime and lxml are imported when the command runs, not
when ``procedo`` starts, so the other commands stay quick.
"""

from __future__ import annotations

import sys
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from procedo.runtime.context import MessageKind, Runtime


class _WorkHere:
    """Without a broker, this process starts the flows itself once the invoice is stored.

    Emails and timers are left to the scheduler of ``procedo serve``, which finds
    them in the database (nothing is lost when no server runs right now).
    """

    def __init__(self) -> None:
        self.queue: deque[tuple[MessageKind, list[uuid.UUID]]] = deque()

    def send(self, kind: MessageKind, idents: Sequence[uuid.UUID]) -> None:
        self.queue.append((kind, list(idents)))

    def run(self, rt: Runtime) -> None:
        from procedo.runtime import work

        while self.queue:
            kind, idents = self.queue.popleft()
            if kind in ("event", "advance"):
                work.HANDLERS[kind](rt, idents)


def _read(path: Path) -> bytes | str:
    """The file's bytes, or why it is refused: an oversized file is never read in."""
    from procedo.ubl import MAX_BYTES

    size = path.stat().st_size
    if size > MAX_BYTES:
        return f"{size:,} bytes; at most {MAX_BYTES:,} are accepted"
    return path.read_bytes()


def _batches(files: Sequence[Path]) -> Iterator[list[tuple[Path, bytes | str]]]:
    """Files in batches of at most 200 or 50 MB, so a folder of thousands fits in memory."""
    batch: list[tuple[Path, bytes | str]] = []
    held = 0
    for path in files:
        data = _read(path)
        batch.append((path, data))
        held += len(data)
        if len(batch) >= 200 or held >= 50_000_000:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def _tenant_id(rt: Runtime, slug: str | None) -> uuid.UUID:
    import sqlalchemy as sa

    from procedo.db import models as m

    with rt.db.read() as session:
        tenants = session.execute(sa.select(m.Tenant.id, m.Tenant.slug)).all()
    if slug is not None:
        for ident, found in tenants:
            if found == slug:
                return ident
        raise click.ClickException(f"no tenant '{slug}'; known: {_slugs(tenants)}")
    if len(tenants) == 1:
        return tenants[0][0]
    raise click.ClickException(f"name the tenant with --tenant SLUG; known: {_slugs(tenants)}")


def _summaries(rt: Runtime, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``KEY (AMOUNT CURRENCY), status 'S'[; conversion problem: ...]`` per subject id."""
    import sqlalchemy as sa

    from procedo.db import models as m

    with rt.db.read() as session:
        rows = session.execute(
            sa.select(m.Subject.id, m.Subject.key, m.Subject.status, m.Subject.fields).where(
                m.Subject.id.in_(ids)
            )
        ).all()
    found = {}
    for ident, key, status, fields in rows:
        problem = fields["conversion_problem"]
        # A document sent instead of an invoice has no amount (docs/ubl.md).
        amount = fields["payable_amount"]
        found[ident] = (
            key
            + (f" ({amount} {fields['currency']})" if amount is not None else "")
            + f", status '{status}'"
            + (f"; conversion problem: {problem}" if problem else "")
        )
    return found


def _slugs(tenants: Sequence[Any]) -> str:
    return ", ".join(sorted(row[1] for row in tenants)) or "none (create one first)"


@click.command("ingest")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@click.option("--tenant", "slug", help="The tenant's slug (may be left out if there is one).")
@click.option("--dry-run", is_flag=True, help="Store nothing: print each file's fields as JSON.")
@click.option("--actor", default="procedo ingest", show_default=True, help="Recorded as sender.")
def ingest_command(files: tuple[Path, ...], slug: str | None, dry_run: bool, actor: str) -> None:
    """Take in UBL 2.1 invoices and credit notes (PEPPOL BIS 3.0) as invoice subjects.

    Each stored invoice gets the event invoice.received, which starts the flows
    triggered by it. A file that cannot be read is reported with its line and
    element, and nothing of it is stored. Exit 1 if any file was refused.
    """
    if dry_run:
        sys.exit(_dry_run(files))
    from procedo.db.session import Database
    from procedo.runtime.context import Runtime
    from procedo.settings import load_settings
    from procedo.ubl.ingest import ingest_many

    settings = load_settings()
    here = _WorkHere()
    if settings.embedded:
        rt = Runtime(db=Database(settings.database_url), dispatcher=here)
    else:
        from procedo.worker.process import build_runtime

        rt, _actors = build_runtime(settings)
    tenant_id = _tenant_id(rt, slug)
    refused = 0
    for batch in _batches(files):
        readable = [data for _path, data in batch if isinstance(data, bytes)]
        done = iter(ingest_many(rt, tenant_id, readable, actor))
        outcomes = [next(done) if isinstance(data, bytes) else None for _path, data in batch]
        here.run(rt)
        summaries = _summaries(rt, [o.subject_id for o in outcomes if o and o.subject_id])
        for (path, data), outcome in zip(batch, outcomes, strict=True):
            if outcome is None or outcome.subject_id is None:
                refused += 1
                why = data if isinstance(data, str) else str(outcome.error if outcome else "")
                click.echo(f"{path}: refused, nothing stored: {why}", err=True)
                continue
            verb = "stored as" if outcome.created else "already stored:"
            click.echo(f"{path}: {verb} invoice {summaries[outcome.subject_id]}")
    rt.db.dispose()
    sys.exit(1 if refused else 0)


def _dry_run(files: tuple[Path, ...]) -> int:
    from procedo.flow.codec import encode_json
    from procedo.flow.problems import Problem
    from procedo.ubl import UblError, parse

    results: list[dict[str, Any]] = []
    for path in files:
        data = _read(path)
        try:
            if isinstance(data, str):
                raise UblError([Problem(code="ubl.too_large", message=data)])
            parsed = parse(data)
        except UblError as exc:
            if exc.kind:  # ingest records it for the conversion check: not a refusal
                problem = "; ".join(p.message for p in exc.problems)
                results.append(
                    {"file": str(path), "not_an_invoice": exc.kind, "conversion_problem": problem}
                )
            else:
                results.append({"file": str(path), "problems": exc.problems})
            continue
        results.append({"file": str(path), "key": parsed.key, "fields": parsed.fields})
    sys.stdout.buffer.write(encode_json(results))
    return 1 if any("problems" in r for r in results) else 0


def trial_subject(path: Path, data: bytes) -> Any:
    """A UBL file as the subject of ``procedo run`` (status ``received``, as ingested)."""
    from procedo.runtime.trial import SubjectFile
    from procedo.ubl import UblError, parse

    try:
        parsed = parse(data)
    except UblError as exc:
        raise click.ClickException(f"{path}: refused: {exc}") from exc
    return SubjectFile(fields=parsed.fields, key=parsed.key, status="received")
