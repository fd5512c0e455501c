"""``procedo settings sms set|show|test``: a tenant's SMS provider from the command line.

The HTTP provider's token is asked for without echo (an option would show in the
shell's history and the process list) and never printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from procedo.messaging.cli import _tenant, _tenant_options


@click.group("sms")
def sms_group() -> None:
    """The provider the tenant's SMS leave through (the local sink, or an HTTP endpoint)."""


@sms_group.command("set")
@click.option(
    "--provider",
    type=click.Choice(["sink", "http"]),
    default="sink",
    show_default=True,
    help="sink: kept as files in <data dir>/sent-sms (development); http: POST to --url.",
)
@click.option("--url", default=None, help="The https:// endpoint (http provider).")
@click.option("--sender", default="", help="The sender shown: a name (11 letters) or number.")
@_tenant_options
def sms_set(
    provider: str, url: str | None, sender: str, slug: str | None, data_dir: Path | None
) -> None:
    """Set the tenant's SMS provider (the http provider's bearer token is asked for)."""
    import msgspec

    from procedo.messaging import sms

    token = None
    if provider == "http":
        token = (
            click.prompt(
                "Bearer token (empty: keep the stored one)",
                hide_input=True,
                default="",
                show_default=False,
            )
            or None
        )
    values = {"provider": provider, "url": url, "token": token, "sender": sender}
    try:
        body = msgspec.convert(values, sms.SmsSettingsIn)
    except msgspec.ValidationError as exc:
        raise click.ClickException(f"{exc}: fix it and run again; nothing was stored") from exc
    with _tenant(slug, data_dir) as (rt, tenant_id):
        try:
            shown = sms.save_settings(rt, tenant_id, body, "cli")
        except sms.SettingsProblem as exc:
            raise click.ClickException(f"{exc.path}: {exc}; nothing was stored") from exc
    _show(shown)


def _show(shown: object) -> None:
    from procedo.messaging.sms import SmsSettingsOut

    assert isinstance(shown, SmsSettingsOut)
    if not shown.configured:
        click.echo("no SMS settings yet: procedo settings sms set ...")
        return
    click.echo(f"provider: {shown.provider}")
    if shown.provider == "http":
        click.echo(f"url: {shown.url}")
        click.echo(f"token_set: {'yes' if shown.token_set else 'no'}")
    else:
        click.echo(f"kept in: {shown.sink_folder}")
    click.echo(f"sender: {shown.sender or '(the provider default)'}")


@sms_group.command("show")
@_tenant_options
def sms_show(slug: str | None, data_dir: Path | None) -> None:
    """The tenant's SMS settings (the token only as set or not)."""
    from procedo.messaging import sms

    with _tenant(slug, data_dir) as (rt, tenant_id):
        _show(sms.read_settings(rt, tenant_id))


@sms_group.command("test")
@click.option("--to", required=True, help="The number the test SMS goes to.")
@_tenant_options
def sms_test(to: str, slug: str | None, data_dir: Path | None) -> None:
    """Send a test SMS now and print the provider's answer (exit 1 if not accepted)."""
    from procedo.messaging import sms

    with _tenant(slug, data_dir) as (rt, tenant_id):
        try:
            result = sms.send_test(rt, tenant_id, to, "cli")
        except sms.SettingsProblem as exc:
            raise click.ClickException(f"{exc.path}: {exc}") from exc
    click.echo(f"{result.outcome}: {result.detail}")
    if not result.ok:
        sys.exit(1)
