"""Whether the database can serve the app: reachable, writable, and at the migration head."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from smartapp.db.database import Database, is_read_only_error
from smartapp.db.migrations import alembic_config

# A write that changes nothing, rolled back: it needs the write access the app's writes need.
_WRITE_PROBE = text("UPDATE alembic_version SET version_num = version_num")
_VERSION = text("SELECT version_num FROM alembic_version")


@dataclass(frozen=True, slots=True)
class Readiness:
    """The database's state: `database` is writable, read-only or unreachable; `schema` is
    current, not at head, or unknown; `cause` says why, for the log (no values, no PHI)."""

    database: str
    schema: str
    cause: str | None = None

    @property
    def ready(self) -> bool:
        """Writable and at the head: every request can be served."""
        return self.database == "writable" and self.schema == "current"


@cache
def migration_head() -> str | None:
    """The newest revision this version of the app ships (read once from its migrations)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_readiness(database: Database) -> Readiness:
    """Probe once; after a read-only refusal (which reopens the pool) once more, so a database
    writable again is seen as writable at once."""
    found = _probe(database)
    if found.database == "read-only":
        found = _probe(database)
    return found


def _probe(database: Database) -> Readiness:
    try:
        with database.engine.connect() as connection:
            version = connection.execute(_VERSION).scalar_one_or_none()
            connection.execute(_WRITE_PROBE)
            connection.rollback()
    except SQLAlchemyError as error:
        cause = type(getattr(error, "orig", None) or error).__name__
        if is_read_only_error(error):
            return Readiness(
                "read-only", "unknown", f"the database is read-only: it refused a write ({cause})"
            )
        return Readiness("unreachable", "unknown", f"the database did not answer ({cause})")
    head = migration_head()
    if version != head:
        problem = f"the schema is at {version or 'no revision'}, the app needs {head}"
        return Readiness("writable", "not at head", f"{problem}: run `smartapp db upgrade`")
    return Readiness("writable", "current")
