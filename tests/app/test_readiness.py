"""/readyz tells the truth: a database that cannot be written, or whose schema is not at the
migration head, is not ready; after a read-only episode the app's pooled connections recover
without a restart. On SQLite and on PostgreSQL.

A read-only episode on PostgreSQL is the server's own: the database is set
`default_transaction_read_only` and the app's connections are dropped (as at a failover to a
read-only standby), so the connections the pool opens again are read-only for their whole life
once the database is writable again. SQLite has no server to switch, so the episode is SQLite's
own `query_only` on every connection the app's pool holds or opens during it, which those
connections keep afterwards, as a connection opened on a read-only file does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from smartapp.app import create_app
from smartapp.db.migrations import alembic_config
from tests.app_helpers import app_settings, open_session


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + " " + str(getattr(record, "fields", "")))


@pytest.fixture
def ready_app(backend, database_url, tmp_path: Path) -> Iterator[Any]:
    app = create_app(app_settings(tmp_path, DATABASE_URL=database_url))
    yield app
    app.extensions["smartapp"].close()


@pytest.fixture
def health_log() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger("smartapp.health")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@contextmanager
def sqlite_read_only(app: Any) -> Iterator[None]:
    engine = app.extensions["smartapp"].database.engine
    held = engine.pool.checkedin()
    connections = [engine.raw_connection() for _ in range(held)]
    for connection in connections:
        connection.cursor().execute("PRAGMA query_only = ON")
        connection.close()  # back to the pool, read-only

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor().execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", read_only)
    try:
        yield
    finally:
        event.remove(engine, "connect", read_only)


@contextmanager
def postgres_read_only(cluster: Any, url: str) -> Iterator[None]:
    name = make_url(url).database
    cluster.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    cluster.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    try:
        yield
    finally:
        cluster.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


def read_only_episode(request, backend: str, app: Any, url: str):
    if backend == "sqlite":
        return sqlite_read_only(app)
    return postgres_read_only(request.getfixturevalue("postgres_cluster"), url)


def test_readyz_is_ready_on_a_writable_database_at_head(ready_app) -> None:
    answer = ready_app.test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "database": "writable", "schema": "current"}


def test_readyz_fails_during_a_read_only_episode_and_recovers_after_it(
    request, backend, ready_app, database_url, health_log
) -> None:
    client = ready_app.test_client()
    for _ in range(3):  # the pool holds connections opened before the episode
        assert client.get("/readyz").status_code == 200
    open_session(ready_app, "Practitioner/dr-a", now=None)
    with read_only_episode(request, backend, ready_app, database_url):
        during = client.get("/readyz")
        assert during.status_code == 503
        assert during.get_json()["database"] == "read-only"
        with pytest.raises(DBAPIError):  # the app's own writes fail too
            open_session(ready_app, "Practitioner/dr-a", now=None)
    assert any("read-only" in line for line in health_log.lines), health_log.lines
    after = client.get("/readyz")
    assert after.status_code == 200, after.get_json()
    # The app's own writes work again, on every connection of its pool, without a restart.
    for _ in range(8):
        assert open_session(ready_app, "Practitioner/dr-a", now=None)
        assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_the_schema_is_not_at_the_head(ready_app, health_log) -> None:
    database = ready_app.extensions["smartapp"].database
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with database.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    answer = ready_app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["schema"] == "not at head"
    assert any("0001" in line and str(head) in line for line in health_log.lines)
    with database.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert ready_app.test_client().get("/readyz").status_code == 200
