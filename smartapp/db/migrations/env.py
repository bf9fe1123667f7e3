"""Alembic's environment: runs the app's migrations on the Database in the Config's attributes."""

from __future__ import annotations

from alembic import context

from smartapp.db import Base, Database

config = context.config


def _database() -> Database:
    database = config.attributes.get("database")
    if isinstance(database, Database):
        return database
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a Database in attributes or set sqlalchemy.url")
    return Database(url)


def run_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade --sql`)."""
    database = _database()
    context.configure(
        url=database.url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=database.is_sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on a connection; SQLite alters tables in batch mode (copy and move)."""
    database = _database()
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=database.is_sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
