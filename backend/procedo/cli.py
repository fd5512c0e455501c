"""The ``procedo`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import msgspec

from procedo.calendar_cli import calendar_group
from procedo.catalogue import catalogue
from procedo.flow.codec import decode_flow, encode_flow, encode_json
from procedo.flow.problems import FlowError, Problem
from procedo.flow.schema import flow_schema
from procedo.messaging.cli import settings_group, templates_group
from procedo.messaging.sms_cli import sms_group
from procedo.receivables.bank_cli import import_bank_command
from procedo.receivables.cli import import_group
from procedo.registry import NodeTypeError, default_registry
from procedo.subjects import SubjectType, builtin_subject_types, load_subject_types_dir
from procedo.ubl.cli import ingest_command, trial_subject


def _registry_or_exit() -> Any:
    try:
        return default_registry()
    except NodeTypeError as exc:
        raise click.ClickException(str(exc)) from exc


def _subject_types(folder: Path | None) -> dict[str, SubjectType]:
    found = builtin_subject_types()
    if folder is not None:
        found |= load_subject_types_dir(folder)
    return found


def _problems_of(path: Path, subject_types: dict[str, SubjectType]) -> list[Problem]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Problem(code="file.unreadable", message=f"cannot read the file: {exc.strerror}")]
    from procedo.flow.validate import check_flow  # networkx: slow to import, needed only here

    try:
        flow = decode_flow(data)
    except FlowError as exc:
        return exc.problems
    return check_flow(flow, _registry_or_exit(), subject_types).problems


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="procedo")
def main() -> None:
    """Procedo: draw finance workflows, validate them, and run them."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option(
    "--subject-types",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of extra subject type declarations (*.json).",
)
def validate(files: tuple[Path, ...], as_json: bool, subject_types: Path | None) -> None:
    """Check flow files; print every problem with its node or edge. Exit 1 if any."""
    known = _subject_types(subject_types)
    report = {str(path): _problems_of(path, known) for path in files}
    if as_json:
        sys.stdout.buffer.write(encode_json(report))
    else:
        for name, problems in report.items():
            if not problems:
                click.echo(f"{name}: ok")
            for problem in problems:
                click.echo(f"{name}: {problem}")
    if any(report.values()):
        sys.exit(1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file is not canonical.")
def fmt(files: tuple[Path, ...], check: bool) -> None:
    """Rewrite flow files in canonical JSON (sorted keys, 2-space indent)."""
    unformatted = []
    for path in files:
        data = path.read_bytes()
        try:
            canonical = encode_flow(decode_flow(data))
        except FlowError as exc:
            raise click.ClickException(f"{path}: cannot format an unreadable flow:\n{exc}") from exc
        if canonical != data:
            unformatted.append(path)
            if not check:
                path.write_bytes(canonical)
                click.echo(f"formatted {path}")
    if check and unformatted:
        for path in unformatted:
            click.echo(f"{path}: not canonical; run `procedo fmt {path}`")
        sys.exit(1)


@main.command()
@click.option("--node", "node_type", help="Print one node type's params schema instead.")
def schema(node_type: str | None) -> None:
    """Print the JSON Schema of the flow format (or of a node type's params)."""
    if node_type is None:
        sys.stdout.buffer.write(encode_json(flow_schema()))
        return
    registry = _registry_or_exit()
    if node_type not in registry:
        raise click.ClickException(f"unknown node type '{node_type}'; see `procedo nodes`")
    sys.stdout.buffer.write(encode_json(registry[node_type].json_schema()))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="The whole catalogue with params schemas.")
@click.option("--language", type=click.Choice(["en", "nl", "de"]), default="en", show_default=True)
def nodes(as_json: bool, language: str) -> None:
    """List the node types: name, category, label and output ports."""
    infos = catalogue(_registry_or_exit())
    if as_json:
        sys.stdout.buffer.write(encode_json(infos))
        return
    width = max(len(info.type) for info in infos)
    for info in infos:
        ports = ", ".join(p.name for p in info.ports) or "(none: ends a branch)"
        note = f" [{info.ports_help.get(language)}]" if info.ports_help else ""
        click.echo(
            f"{info.type:<{width}}  {info.category:<8}  {info.labels.get(language):<24}  "
            f"ports: {ports}{note}"
        )


@main.group()
def rule() -> None:
    """Convert conditions between the text form and the JSON rule tree."""


@rule.command("to-json")
@click.argument("text")
def rule_to_json(text: str) -> None:
    """Parse a rule in the text form (a CEL subset) and print its JSON tree."""
    from procedo.rules.text import RuleSyntaxError, parse_rule

    try:
        sys.stdout.buffer.write(encode_json(parse_rule(text)))
    except RuleSyntaxError as exc:
        raise click.ClickException(str(exc)) from exc


@rule.command("to-text")
@click.argument("source", type=click.File("rb"))
def rule_to_text(source: Any) -> None:
    """Read a JSON rule tree (a file, or - for standard input) and print its text form."""
    from procedo.rules.model import Rule
    from procedo.rules.text import format_rule

    try:
        tree: Rule = msgspec.json.decode(source.read(), type=Rule)
    except msgspec.DecodeError as exc:
        raise click.ClickException(f"not a rule tree: {exc}") from exc
    try:
        click.echo(format_rule(tree))
    except ValueError as exc:
        raise click.ClickException(f"this rule tree has no text form: {exc}") from exc


@main.command("run")
@click.argument("flow_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--subject",
    "subject_file",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help='Subject JSON (its fields, or {"key": ..., "status": ..., "fields": {...}}) or UBL .xml.',
)
@click.option(
    "--complete",
    "completions",
    multiple=True,
    help="Outcome for the next open task (oldest first, all checkpoints ticked). Repeatable.",
)
@click.option("--event", "events", multiple=True, help="An event to post when awaited.")
def run_flow(
    flow_file: Path, subject_file: Path, completions: tuple[str, ...], events: tuple[str, ...]
) -> None:
    """Try a flow on one subject in a throw-away database and print its history.

    Time is simulated: waits and reminders pass in an instant.
    """
    from procedo.runtime.context import Refusal
    from procedo.runtime.trial import read_subject, trial_run

    try:
        data = subject_file.read_bytes()
        is_ubl = subject_file.suffix == ".xml"  # a UBL invoice, read as `procedo ingest` would
        subject = trial_subject(subject_file, data) if is_ubl else read_subject(data)
        result = trial_run(flow_file.read_bytes(), subject, completions, events)
    except FlowError as exc:
        raise click.ClickException(f"{flow_file}: the flow is not valid:\n{exc}") from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise click.ClickException(f"{subject_file}: {exc}") from exc
    except Refusal as exc:
        raise click.ClickException(str(exc)) from exc
    for line in result.history:
        click.echo(line)
    for email in result.emails:
        click.echo(f"email sent {email}")
    waiting = f" at {', '.join(result.waiting_at)}" if result.waiting_at else ""
    click.echo(f"instance {result.status}{waiting}; subject status '{result.subject_status}'")


@main.group()
def db() -> None:
    """The database: PROCEDO_DATABASE_URL, or SQLite under PROCEDO_DATA_DIR."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from procedo.db.migrate import upgrade
    from procedo.db.session import Database
    from procedo.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.database_url)
    upgrade(database.engine)
    click.echo(f"database at {database.url.render_as_string()} is up to date")


@main.command()
@click.option("--threads", default=8, show_default=True, help="Worker threads in this process.")
def worker(threads: int) -> None:
    """Run a worker process (needs PROCEDO_BROKER_URL and PROCEDO_DATABASE_URL)."""
    import logging

    from procedo.settings import load_settings
    from procedo.worker.process import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(load_settings(), threads)


@main.command()
@click.option("--poll", default=0.25, show_default=True, help="Seconds between idle rounds.")
def scheduler(poll: float) -> None:
    """Run a scheduler: due timers and emails, schedules, and the sweeper."""
    import logging

    from procedo.settings import load_settings
    from procedo.worker.process import run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_scheduler(load_settings(), poll)


main.add_command(ingest_command)  # procedo ingest: UBL invoices (procedo/ubl/cli.py)
import_group.add_command(import_bank_command)  # procedo import bank FILE (CAMT.053)
main.add_command(import_group)  # procedo import debtors|open-items|bank (procedo/receivables/)
main.add_command(settings_group)  # procedo settings email (procedo/messaging/cli.py)
settings_group.add_command(sms_group)  # procedo settings sms (procedo/messaging/sms_cli.py)
settings_group.add_command(calendar_group)  # procedo settings calendar (procedo/calendar_cli.py)
main.add_command(templates_group)  # procedo templates list|import|export (the same)


# The HTTP API's commands (serve, tenant) live with the API.
from procedo.api.cli import register as _register_api_commands  # noqa: E402

_register_api_commands(main)
