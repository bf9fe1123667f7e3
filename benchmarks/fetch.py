"""The worklist fetch against the sandbox EHR, timed by step: export, download, evaluation.

.venv/bin/python -m benchmarks.fetch

Starts the sandbox, registers the app's Backend Services client with the app's JWKS (served on
loopback), and runs `smartapp worklist fetch` for the sandbox's clozapine Group on a fresh
SQLite database. The export figure includes the sandbox's own pace (it answers the first
status poll with Retry-After: 1), so it measures the client's waiting as much as the server.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import NamedTuple

import requests
from cryptography.fernet import Fernet

from launch import KeyRing
from launch.issuers import DEFAULT_BACKEND_SCOPES
from sandbox.ehr.config import load_config
from sandbox.run import Sandbox
from smartapp.commands.cli import main
from smartapp.commands.db import upgrade
from smartapp.db import Database, SecretCipher, SigningKeyStore
from tests.jwks_server import JwksServer

GROUP = "clozapine-patients"
ORG_CONFIG = Path(__file__).resolve().parents[1] / "config" / "sandbox-organisation.toml"
_TIMES = re.compile(
    r"(\d+) patients .*export ([\d.]+) s, download ([\d.]+) s, evaluation ([\d.]+) s"
)


class FetchFigures(NamedTuple):
    patients: int
    export_s: float
    download_s: float
    evaluation_s: float


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def measure() -> FetchFigures:
    """One fetch of the sandbox's Group, timed by step."""
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        config = load_config().replace(
            port=0, engine_port=0, tls_dir=folder / "tls", data_dir=folder / "data"
        )
        with Sandbox(config) as sandbox:
            database_url = f"sqlite:///{folder / 'app.db'}"
            upgrade(database_url)
            token_key = Fernet.generate_key().decode()
            database = Database(database_url)
            ring = KeyRing.load_or_create(
                SigningKeyStore(database, SecretCipher(token_key)), now=datetime.now(UTC)
            )
            database.dispose()
            with JwksServer(ring.public_jwks()) as server:
                client = _register(sandbox, server.url)
                issuers = _issuers_file(folder, sandbox, client)
                settings = {
                    "SMARTAPP_ISSUERS_FILE": str(issuers),
                    "SMARTAPP_DATABASE_URL": database_url,
                    "SMARTAPP_TOKEN_KEY": token_key,
                    "SMARTAPP_INSTANCE_DIR": str(folder),
                    "SMARTAPP_ORG_CONFIG": str(ORG_CONFIG),
                }
                said = StringIO()
                with _environment(settings), redirect_stderr(said):
                    status = main(["worklist", "fetch", "--issuer", "Sandbox", "--group", GROUP])
    found = _TIMES.search(said.getvalue())
    if status != 0 or found is None:
        raise RuntimeError(f"the fetch failed: {said.getvalue().strip()}")
    patients, export_s, download_s, evaluation_s = found.groups()
    return FetchFigures(int(patients), float(export_s), float(download_s), float(evaluation_s))


def _register(sandbox: Sandbox, jwks_url: str) -> str:
    body = {
        "client_id": "benchmark-backend",
        "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": ["client_credentials"],
        "jwks_uri": jwks_url,
        "scope": DEFAULT_BACKEND_SCOPES.split(),
    }
    with requests.Session() as http:
        http.trust_env = False
        http.verify = str(sandbox.ca_path)
        answer = http.post(f"{sandbox.config.origin}/_sandbox/clients", json=body, timeout=10)
    answer.raise_for_status()
    return "benchmark-backend"


def _issuers_file(folder: Path, sandbox: Sandbox, backend_client: str) -> Path:
    path = folder / "issuers.toml"
    path.write_text(
        "\n".join(
            [
                "[[issuer]]",
                'name = "Sandbox"',
                f'iss = "{sandbox.config.fhir_base}"',
                'client_id = "clozapine-smartapp"',
                f'tls_ca_file = "{sandbox.ca_path}"',
                f'backend_client_id = "{backend_client}"',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def report(figures: FetchFigures) -> str:
    """One line of figures."""
    total = figures.export_s + figures.download_s + figures.evaluation_s
    return (
        f"worklist fetch of {figures.patients} sandbox patients: export {figures.export_s:.2f} s"
        f" (with the sandbox's 1 s Retry-After), download {figures.download_s:.2f} s,"
        f" evaluation {figures.evaluation_s:.2f} s; {total:.2f} s in all"
    )


if __name__ == "__main__":
    print(report(measure()))
