"""The `Database`: an engine and a session factory made from a URL (SQLite file or PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

LOGGER = logging.getLogger("smartapp.db")
# SQLSTATE 25006 read_only_sql_transaction (PostgreSQL, "Appendix A. Error Codes").
PG_READ_ONLY = "25006"
# SQLITE_READONLY, the primary code of every "attempt to write a readonly database"
# (https://www.sqlite.org/rescode.html#readonly).
SQLITE_READONLY = 8
# How long a SQLite writer waits for another's lock before giving up, in seconds.
SQLITE_BUSY_TIMEOUT_S = 30


class Database:
    """One database: `transaction()` gives a session that commits on success, rolls back on error.

    A `postgresql://` URL uses psycopg 3. SQLite connections get WAL (readers do not block the
    writer), enforced foreign keys and a busy timeout; a relative SQLite path is taken from the
    working directory, and its folder is made. Call `dispose()` in each forked worker.

    A write refused because the database is read-only invalidates the pool: a connection opened
    while the database was read-only (a PostgreSQL session started under
    `default_transaction_read_only`, a SQLite file opened read-only) stays so for its life, and
    pool_pre_ping cannot tell (it only reads), so without this the worker stays broken.
    """

    def __init__(self, url: str | URL, **engine_options: Any) -> None:
        self.url = _with_driver(make_url(url))
        if self.url.get_backend_name() == "sqlite":
            _make_sqlite_folder(self.url)
            engine_options.setdefault("connect_args", {}).setdefault(
                "timeout", SQLITE_BUSY_TIMEOUT_S
            )
        else:
            engine_options.setdefault("pool_pre_ping", True)
        self.engine: Engine = create_engine(self.url, **engine_options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _configure_sqlite_connection)
        event.listen(self.engine, "handle_error", _reopen_after_read_only)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True for a SQLite database (file or memory)."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed when the block ends, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, and before a forked worker starts)."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"


def is_read_only_error(error: BaseException | None) -> bool:
    """Whether a database error (or the driver's error under it) says the database is read-only."""
    original = getattr(error, "orig", None) or error
    if getattr(original, "sqlstate", None) == PG_READ_ONLY:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == SQLITE_READONLY


def _reopen_after_read_only(context: ExceptionContext) -> None:
    if is_read_only_error(context.original_exception):
        # Treated as a disconnect: SQLAlchemy invalidates this connection and every pooled one
        # opened before it, so the next checkouts connect afresh.
        context.is_disconnect = True
        LOGGER.warning(
            "database refused a write: read-only; pooled connections will be reopened",
            extra={"fields": {"cause": type(context.original_exception).__name__}},
        )


def _with_driver(url: URL) -> URL:
    # A bare postgresql:// (or Heroku-style postgres://) URL would pick psycopg2, which the app
    # does not install; psycopg 3 is the driver it ships with.
    if url.drivername in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _make_sqlite_folder(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # https://www.sqlite.org/wal.html and https://www.sqlite.org/foreignkeys.html#fk_enable
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()
