"""``procedo settings email set|show|test`` and ``procedo templates list|import|export``.

The SMTP password is asked for without echo (never an option: options show in
the shell's history and in the process list) and never printed.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from procedo.runtime.context import Runtime


def _tenant_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--data-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="The embedded data directory (PROCEDO_DATA_DIR; default .procedo-data).",
    )(command)
    return click.option(
        "--tenant", "slug", help="The tenant's slug (may be left out if there is one)."
    )(command)


@contextmanager
def _tenant(slug: str | None, data_dir: Path | None) -> Iterator[tuple[Runtime, uuid.UUID]]:
    """The runtime and the tenant's id; the embedded database is migrated first."""
    import sqlalchemy as sa

    from procedo.api.server import migrate
    from procedo.db.models import Tenant
    from procedo.settings import load_settings
    from procedo.worker.process import build_runtime

    if data_dir is not None:
        os.environ["PROCEDO_DATA_DIR"] = str(data_dir)
    settings = load_settings()
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.database_url)
    runtime, _actors = build_runtime(settings)
    try:
        with runtime.db.read() as session:
            tenants = session.execute(sa.select(Tenant.id, Tenant.slug)).all()
        known = ", ".join(sorted(s for _i, s in tenants)) or "none (procedo tenant create)"
        chosen = [i for i, s in tenants if s == slug] if slug else [i for i, _s in tenants]
        if slug and not chosen:
            raise click.ClickException(f"no tenant '{slug}'; known: {known}")
        if len(chosen) != 1:
            raise click.ClickException(f"name the tenant with --tenant SLUG; known: {known}")
        yield runtime, chosen[0]
    finally:
        runtime.db.dispose()


# -- procedo settings email ------------------------------------------------------------------


@click.group("settings")
def settings_group() -> None:
    """A tenant's settings (administrators' business): its email server."""


@settings_group.command("new-key")
def new_key_command() -> None:
    """Print a new server key for PROCEDO_SECRET_KEY (the same for every process)."""
    from procedo.messaging.secretbox import new_key

    click.echo(new_key())


@settings_group.group("email")
def email_group() -> None:
    """The SMTP server the tenant's email leaves through."""


@email_group.command("set")
@click.option("--host", required=True, help="The SMTP server's host name or address.")
@click.option("--port", type=int, default=587, show_default=True)
@click.option(
    "--security",
    type=click.Choice(["starttls", "tls", "none"]),
    default="starttls",
    show_default=True,
    help="starttls (port 587), tls from the start (465), or none (a local relay only).",
)
@click.option("--user", "username", help="The login; the password is asked for (no echo).")
@click.option("--sender", "sender_address", required=True, help="The From address.")
@click.option("--sender-name", default="", help="The From name (e.g. 'Acme Debiteuren').")
@click.option("--reply-to", default=None, help="Where answers go, if not to the sender.")
@click.option("--language", type=click.Choice(["nl", "de", "en"]), default=None)
@_tenant_options
def email_set(
    host: str,
    port: int,
    security: str,
    username: str | None,
    sender_address: str,
    sender_name: str,
    reply_to: str | None,
    language: str | None,
    slug: str | None,
    data_dir: Path | None,
) -> None:
    """Set the tenant's SMTP server, login and sender (a login's password is asked for)."""
    import msgspec

    from procedo.messaging import channel

    password = None
    if username:
        password = (
            click.prompt(
                "SMTP password (empty: keep the stored one)",
                hide_input=True,
                confirmation_prompt=True,
                default="",
                show_default=False,
            )
            or None
        )
    values: dict[str, Any] = {
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "password": password,
        "sender_address": sender_address,
        "sender_name": sender_name,
        "reply_to": reply_to,
        "default_language": language,
    }
    try:
        body = msgspec.convert(values, channel.EmailSettingsIn)
    except msgspec.ValidationError as exc:
        raise click.ClickException(f"{exc}: fix it and run again; nothing was stored") from exc
    with _tenant(slug, data_dir) as (rt, tenant_id):
        try:
            shown = channel.save_settings(rt, tenant_id, body, "cli")
        except channel.SettingsProblem as exc:
            raise click.ClickException(f"{exc.path}: {exc}; nothing was stored") from exc
    _show(shown)


def _show(shown: Any) -> None:
    if not shown.configured:
        click.echo("no email settings yet: procedo settings email set ...")
        return
    click.echo(f"server: {shown.host}:{shown.port} ({shown.security})")
    click.echo(f"login: {shown.username or '(none)'}")
    click.echo(f"password_set: {'yes' if shown.password_set else 'no'}")
    sender = f"{shown.sender_name} <{shown.sender_address}>" if shown.sender_name else ""
    click.echo(f"sender: {sender or shown.sender_address}")
    click.echo(f"reply_to: {shown.reply_to or '(the sender)'}")
    click.echo(f"default_language: {shown.default_language}")


@email_group.command("show")
@_tenant_options
def email_show(slug: str | None, data_dir: Path | None) -> None:
    """The tenant's email settings (the password only as set or not)."""
    from procedo.messaging import channel

    with _tenant(slug, data_dir) as (rt, tenant_id):
        _show(channel.read_settings(rt, tenant_id))


@email_group.command("test")
@click.option("--to", required=True, help="Where the test message goes.")
@_tenant_options
def email_test(to: str, slug: str | None, data_dir: Path | None) -> None:
    """Send a test message now and print the server's answer (exit 1 if not accepted)."""
    from procedo.messaging import channel

    with _tenant(slug, data_dir) as (rt, tenant_id):
        try:
            result = channel.send_test(rt, tenant_id, to, "cli")
        except channel.SettingsProblem as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{result.outcome}: {result.detail}")
    if not result.ok:
        sys.exit(1)


# -- procedo templates -----------------------------------------------------------------------


@click.group("templates")
def templates_group() -> None:
    """The tenant's email template library (docs/messages.md)."""


@templates_group.command("list")
@_tenant_options
def templates_list(slug: str | None, data_dir: Path | None) -> None:
    from procedo.messaging import library

    with _tenant(slug, data_dir) as (rt, tenant_id):
        found = library.list_templates(rt, tenant_id, limit=10_000)
    for t in found:
        click.echo(f"{t.name}\t{t.subject_type}\t{','.join(t.languages)}\t{t.description}")


@templates_group.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@_tenant_options
def templates_export(file: Path | None, slug: str | None, data_dir: Path | None) -> None:
    """Every template as one JSON file (to FILE, or standard output)."""
    import msgspec

    from procedo.messaging import library

    with _tenant(slug, data_dir) as (rt, tenant_id):
        found = library.export_templates(rt, tenant_id)
    text = msgspec.json.format(msgspec.json.encode(found), indent=2).decode() + "\n"
    if file is None:
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"{file}: {len(found)} template(s)", err=True)


@templates_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_tenant_options
def templates_import(file: Path, slug: str | None, data_dir: Path | None) -> None:
    """Templates from a file made by export: new names added, known ones replaced; all or none."""
    import msgspec

    from procedo.messaging import library
    from procedo.runtime.context import Refusal

    try:
        templates = msgspec.json.decode(file.read_bytes(), type=list[library.TemplateIn])
    except msgspec.DecodeError as exc:  # ValidationError is one, and says where
        raise click.ClickException(f"{file}: {exc}; nothing was stored") from exc
    with _tenant(slug, data_dir) as (rt, tenant_id):
        try:
            created, replaced = library.import_templates(rt, tenant_id, templates, "cli")
        except library.TemplateProblems as exc:
            for problem in exc.problems:
                click.echo(f"{file}: {problem.path}: {problem.message}", err=True)
            raise click.ClickException(f"{file}: nothing stored; fix the problems above") from exc
        except Refusal as exc:  # a template published flows send would change its type
            raise click.ClickException(f"{file}: {exc}; nothing was stored") from exc
    click.echo(f"{file}: {created} template(s) added, {replaced} replaced")
