"""Schema migrations with Alembic, run from the installed package: `procedo db upgrade`."""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("procedo") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: sa.Engine) -> None:
    """Bring the database to the newest schema; safe to run on every start."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def revision(url: str, message: str) -> None:
    """Write a new migration from the difference between the models and ``url``'s schema."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
