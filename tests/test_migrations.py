"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from procedo.db.migrate import upgrade
from procedo.db.models import Base


def schema_differences(url: str) -> list[object]:
    engine = sa.create_engine(url)
    upgrade(engine)
    upgrade(engine)  # running it again is harmless (it runs on every start)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences: list[object] = compare_metadata(context, Base.metadata)
    engine.dispose()
    return differences


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    assert schema_differences(f"sqlite:///{tmp_path / 'm.db'}") == []


def test_migrations_match_the_models_on_postgresql(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:  # the shared test schema was made with create_all
        Base.metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    assert schema_differences(postgres_url) == []


def test_db_upgrade_command(tmp_path: Path) -> None:
    env = {**os.environ, "PROCEDO_DATA_DIR": str(tmp_path / "data")}
    env.pop("PROCEDO_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "procedo", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "procedo.db").exists()
    assert "up to date" in result.stdout
