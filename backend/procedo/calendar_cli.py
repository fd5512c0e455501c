"""``procedo settings calendar show|set``: the office's time zone, country and closing days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from procedo.messaging.cli import _tenant, _tenant_options

if TYPE_CHECKING:
    from procedo.office_calendar import ClosingDay


@click.group("calendar")
def calendar_group() -> None:
    """The office's time zone, country (its public holidays) and own closing days."""


@calendar_group.command("show")
@click.option("--lang", type=click.Choice(["nl", "de", "en"]), default="en", show_default=True)
@_tenant_options
def calendar_show(lang: str, slug: str | None, data_dir: Path | None) -> None:
    """The calendar, and the country's public holidays a year ahead."""
    from procedo import office_calendar

    with _tenant(slug, data_dir) as (rt, tenant_id):
        _show(office_calendar.read(rt, tenant_id, lang))


@calendar_group.command("set")
@click.option("--timezone", help="An IANA time zone such as Europe/Berlin (default: kept).")
@click.option("--country", help="A two-letter country code: NL, BE, DE ... (default: kept).")
@click.option(
    "--closing-day",
    "closing_days",
    multiple=True,
    metavar="DATE[=NAME]",
    help="A day the office is closed (2026-12-28=Kerstsluiting); repeat it. Given, it "
    "replaces the list.",
)
@click.option("--no-closing-days", is_flag=True, help="Remove every closing day.")
@_tenant_options
def calendar_set(
    timezone: str | None,
    country: str | None,
    closing_days: tuple[str, ...],
    no_closing_days: bool,
    slug: str | None,
    data_dir: Path | None,
) -> None:
    """Change the calendar; what is left out stays as it is."""
    from procedo import office_calendar
    from procedo.office_calendar import CalendarIn

    days = [_closing_day(text) for text in closing_days]
    with _tenant(slug, data_dir) as (rt, tenant_id):
        now = office_calendar.read(rt, tenant_id, "en")
        if not closing_days and not no_closing_days:
            days = now.closing_days
        body = CalendarIn(timezone or now.timezone, country or now.country, [*days])
        try:
            shown = office_calendar.save(rt, tenant_id, body, "en", "cli")
        except office_calendar.CalendarProblem as exc:
            raise click.ClickException(f"{exc.path}: {exc}; nothing was stored") from exc
    _show(shown)


def _closing_day(text: str) -> ClosingDay:
    from procedo.office_calendar import ClosingDay

    day, _, name = text.partition("=")
    try:
        return ClosingDay(dt.date.fromisoformat(day.strip()), name.strip()[:100])
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r}: write the date as YYYY-MM-DD, then =name if you like",
            param_hint="--closing-day",
        ) from exc


def _show(shown: object) -> None:
    from procedo.office_calendar import CalendarOut

    assert isinstance(shown, CalendarOut)
    click.echo(f"time zone: {shown.timezone}")
    click.echo(f"country:   {shown.country}")
    click.echo("closing days:" + ("" if shown.closing_days else " none"))
    for day in shown.closing_days:
        click.echo(f"  {day.date}  {day.name}".rstrip())
    click.echo("public holidays a year ahead:")
    for holiday in shown.public_holidays:
        click.echo(f"  {holiday.date}  {holiday.name}")
