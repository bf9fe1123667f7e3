"""A private, throwaway PostgreSQL cluster for tests: initdb in a temp folder, loopback only."""

# Use: `from tests.postgres import postgres_cluster` in a conftest (a session fixture), then
# `url = postgres_cluster.create_database("x")` in a test or fixture. PostgreSQL refuses to run
# as root, so under root the cluster runs as the `postgres` system user (made by Debian's
# package) or, failing that, a system user `smartapp-pg` created here. It listens on 127.0.0.1
# on a free port with its unix socket inside the temp folder, uses SCRAM password
# authentication with a random password, and is stopped and deleted afterwards. Without
# PostgreSQL the fixture skips; with SMARTAPP_TEST_POSTGRES=required or under CI (CI set) it fails.

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

SUPERUSER = "smartapp"
FALLBACK_SYSTEM_USER = "smartapp-pg"
REQUIRED_VARIABLE = "SMARTAPP_TEST_POSTGRES"
# Durability is pointless for a throwaway cluster; these make it start and write much faster.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresUnavailable(RuntimeError):
    """The cluster cannot be made here (no binaries, no unprivileged user); says why."""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: $PG_BINDIR, Debian's newest, or the PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += [str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
    on_path = shutil.which("initdb")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root (run as ourselves); else a system user, created if missing."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", FALLBACK_SYSTEM_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    done = subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            FALLBACK_SYSTEM_USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"cannot create system user {FALLBACK_SYSTEM_USER}: {done.stderr}"
        )
    return pwd.getpwnam(FALLBACK_SYSTEM_USER)


class PostgresCluster:
    """One running cluster; `create_database` hands out SQLAlchemy URLs of fresh databases."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _unprivileged_user()
        # Under root, /tmp itself: the server's user must reach the folder, and pytest's own
        # temp folders (/tmp/pytest-of-root) are closed to other users.
        parent = "/tmp" if self.user is not None else None
        self.root = Path(tempfile.mkdtemp(prefix="smartapp-pg-", dir=parent))
        self.data = self.root / "data"
        self.password = secrets.token_urlsafe(24)
        self.port = 0
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy (psycopg 3) URL of a database of this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb, then start on a free loopback port (retried if the port was taken meanwhile)."""
        password_file = self.root / "password"
        password_file.write_text(self.password)
        if self.user is not None:
            os.chown(password_file, self.user.pw_uid, self.user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        password_file.unlink()
        for attempt in range(3):
            self.port = _free_port()
            options = f"-h 127.0.0.1 -p {self.port} -k {self.root}"
            options += "".join(f" -c {setting}" for setting in FAST_SETTINGS)
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(self.data),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(self.root / "server.log"),
                    "-o",
                    options,
                )
                return
            except PostgresUnavailable:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the folder."""
        if self.data.is_dir() and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally a copy of `template`) and return its URL."""
        suffix = ""
        if template:
            # FILE_COPY (PostgreSQL 15+) copies a small template ~4x faster than WAL_LOG.
            strategy = " STRATEGY FILE_COPY" if self.server_version() >= 150000 else ""
            suffix = f' TEMPLATE "{template}"{strategy}'
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def server_version(self) -> int:
        """The server's version number, e.g. 150018 for 15.18."""
        with self._connect() as connection:
            return int(connection.info.server_version)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection left open to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def execute(self, sql: str) -> None:
        """Run one statement as the superuser, outside a transaction (as CREATE DATABASE needs)."""
        with self._connect() as connection:
            connection.execute(sql.encode())

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        )

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bindir / program), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            **self._as_user(),
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{program} failed: {done.stderr.strip()}\n{tail}")

    def _as_user(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.root),
            "USER": self.user.pw_name,
        }
        return {
            "user": self.user.pw_uid,
            "group": self.user.pw_gid,
            "extra_groups": [],
            "env": environment,
        }


def start_cluster() -> PostgresCluster:
    """A started cluster (call `stop()` when done); PostgresUnavailable when it cannot start."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL binaries not found (apt-get install postgresql, or set PG_BINDIR)"
        )
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The session's private PostgreSQL cluster; the test skips (or, in CI, fails) without one."""
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        if os.environ.get(REQUIRED_VARIABLE) == "required" or os.environ.get("CI"):
            pytest.fail(f"PostgreSQL required but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()
