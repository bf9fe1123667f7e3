"""Database fixtures: every database behaviour runs on SQLite and on a private PostgreSQL."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from smartapp.commands.db import upgrade
from smartapp.db import Database, SecretCipher
from tests.postgres import PostgresCluster, postgres_cluster  # noqa: F401 - a fixture, by name

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_names = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "smartapp.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster: PostgresCluster) -> str:  # noqa: F811
    """A PostgreSQL database migrated to head once; each test gets a copy (CREATE ... TEMPLATE)."""
    upgrade(postgres_cluster.create_database("migrated_template"))
    return "migrated_template"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database engine under test: sqlite or postgres."""
    return str(request.param)


@pytest.fixture
def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path):
    """The URL of a new, empty (unmigrated) database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"empty_{next(_names)}"
    yield cluster.create_database(name)
    cluster.drop_database(name)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path):
    """The URL of a new database migrated to head."""
    if backend == "sqlite":
        path = tmp_path / "smartapp.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"test_{next(_names)}"
    yield cluster.create_database(name, template=request.getfixturevalue("postgres_template"))
    cluster.drop_database(name)


@pytest.fixture
def database(database_url: str):
    """A Database on a fresh migrated database, disposed after the test."""
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def cipher() -> SecretCipher:
    """A SecretCipher with a fresh random key."""
    return SecretCipher(SecretCipher.generate_key())
