"""Migration 0017 numbers the schedules a tenant has already, by their flow's name (D5)."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from procedo.db.migrate import alembic_config


def _to(engine: sa.Engine, target: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def _insert(c: sa.Connection, table: str, **values: object) -> None:
    """A row with ``values``; every other required column gets a plain value of its type."""
    for column in sa.inspect(c).get_columns(table):
        if column["name"] in values or column["nullable"] or column.get("default") is not None:
            continue
        kind = str(column["type"]).upper()
        plain: object = ""
        if "INT" in kind or "BOOL" in kind:
            plain = 0
        elif "DATE" in kind or "TIME" in kind:
            plain = "2026-12-01 00:00:00"
        elif "JSON" in kind:
            plain = "{}"
        values[column["name"]] = plain
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    c.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)  # noqa: S608


def test_existing_schedules_get_their_places_by_flow_name(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    _to(engine, "0016")
    schedules: dict[tuple[int, str], str] = {}
    with engine.begin() as c:
        for t in range(2):
            tenant = uuid.uuid4().hex
            _insert(c, "tenants", id=tenant, name=f"T{t}", slug=f"t{t}")
            for name in ("Lawyer", "Call", "Reminder"):
                flow, version = uuid.uuid4().hex, uuid.uuid4().hex
                _insert(c, "flows", id=flow, tenant_id=tenant, key=name.lower(), name=name)
                _insert(c, "flow_versions", id=version, tenant_id=tenant, flow_id=flow, number=1)
                _insert(c, "flow_schedules", flow_version_id=version, tenant_id=tenant)
                schedules[(t, name)] = version
    _to(engine, "0017")
    with engine.connect() as c:
        places: dict[str, int] = dict(
            c.execute(sa.text("SELECT flow_version_id, position FROM flow_schedules")).all()
        )
    for t in range(2):
        found = {name: places[schedules[(t, name)]] for name in ("Call", "Lawyer", "Reminder")}
        assert found == {"Call": 1, "Lawyer": 2, "Reminder": 3}
    engine.dispose()
