"""`procedo serve`, `procedo tenant create`: registered on the main command in procedo.cli."""

from __future__ import annotations

import os
from pathlib import Path

import click


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(tenant)


def _data_dir_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Where the embedded SQLite database lives (PROCEDO_DATA_DIR; default .procedo-data).",
    )(function)


def _settings(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from procedo.settings import load_settings

    if data_dir is not None:
        os.environ["PROCEDO_DATA_DIR"] = str(data_dir)
    return load_settings()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@_data_dir_option
@click.option("--demo", is_flag=True, help="Create the demo tenant if missing and print a login.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="PROCEDO_API_WORKERS",
    help="API processes (distributed setup only): about one per core (PROCEDO_API_WORKERS).",
)
def serve(host: str, port: int, data_dir: Path | None, demo: bool, workers: int) -> None:
    """Run the HTTP API and the designer.

    Embedded by default: SQLite under the data directory (migrated on start), with
    workers and the scheduler in this process. With PROCEDO_DATABASE_URL and
    PROCEDO_BROKER_URL it is the API process of the distributed setup, or several
    with --workers.
    """
    import logging

    from procedo.api.server import serve as run_server
    from procedo.api.server import serve_processes, start_backend

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings(data_dir)
    if workers > 1 and settings.embedded:
        raise click.UsageError(
            "--workers above 1 needs the distributed setup (PROCEDO_DATABASE_URL and "
            "PROCEDO_BROKER_URL): the embedded mode runs its workers in its one process"
        )
    backend = start_backend(settings)
    url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
    mode = "embedded, data in " + str(settings.data_dir) if settings.embedded else "distributed"
    banner = [f"Procedo at {url} ({mode}); API docs at {url}/schema"]
    if demo:
        from procedo.api.demo import ensure_demo
        from procedo.messaging.demo_mail import start_demo_mail

        mail_lines: list[str] = []

        def point_mail(slug: str) -> None:
            # Embedded: a sink in this process; distributed: Mailpit (docker-compose).
            if settings.embedded:
                mail_lines.extend(start_demo_mail(backend.runtime, settings.data_dir, slug))

        login = ensure_demo(backend.runtime, before_events=point_mail)
        banner += login.lines()  # the admin's login, then each demo person's
        banner += mail_lines

    def announce() -> None:
        for line in banner:
            click.echo(line)

    if workers == 1:
        run_server(backend, host, port, on_ready=announce)
        return
    backend.stop()  # this process only supervises; each API process makes its own
    announce()
    serve_processes(host, port, workers)


@click.group()
def tenant() -> None:
    """Tenants: the offices (and partners) that use Procedo."""


@tenant.command("create")
@click.argument("name")
@click.option("--admin", "admin_email", required=True, help="The first admin's email address.")
@click.option("--slug", help="The tenant's short name for logging in (default: from NAME).")
@_data_dir_option
def tenant_create(name: str, admin_email: str, slug: str | None, data_dir: Path | None) -> None:
    """Create a tenant and its admin; prints the admin's password and an API token, once."""
    from procedo.api.accounts import create_tenant
    from procedo.api.server import migrate
    from procedo.runtime.context import Refusal
    from procedo.worker.process import build_runtime

    settings = _settings(data_dir)
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.database_url)
    runtime, _actors = build_runtime(settings)
    try:
        made = create_tenant(runtime, name, admin_email, slug)
    except Refusal as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        runtime.db.dispose()
    click.echo(f"tenant:    {made.tenant.slug} ({made.tenant.name})")
    click.echo(f"admin:     {made.admin.email}")
    click.echo(f"password:  {made.password}")
    click.echo(f"api token: {made.token}")
    click.echo("Both are shown only now; change the password after logging in.")
