"""What the database layer promises every caller: ordered ids, moments in UTC."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.session import Database
from procedo.ids import new_id


def test_ids_made_one_after_another_sort_one_after_another() -> None:
    # Time-ordered (UUIDv7), so a transaction's new rows sit together in every index.
    ids = [new_id() for _ in range(1000)]
    assert all(ident.version == 7 for ident in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)
    assert len(set(ids)) == len(ids)


def test_postgresql_gives_moments_in_utc_whatever_the_server_zone(postgres_db: str) -> None:
    # A server (or role) set to another zone must not leak into what the models read:
    # UtcDateTime skips its conversion on PostgreSQL because connections are in UTC.
    url = sa.make_url(postgres_db)
    options = f"{url.query.get('options', '')} -ctimezone=Pacific/Auckland".strip()
    database = Database(url.update_query_dict({"options": options}).render_as_string(False))
    database.create_all()
    moment = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    try:
        with database.transaction() as session:
            tenant = m.Tenant(name="Zone", slug="zone", created_at=moment)
            session.add(tenant)
        with database.read() as session:
            read = session.scalar(sa.select(m.Tenant.created_at).where(m.Tenant.slug == "zone"))
    finally:
        database.dispose()
    assert read == moment
    assert read is not None
    assert read.utcoffset() == dt.timedelta(0)
