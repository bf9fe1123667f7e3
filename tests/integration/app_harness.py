"""Drive the real app (Flask test client) through a real SMART launch against the sandbox EHR."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from sandbox.run import Sandbox
from smartapp.app import create_app
from smartapp.commands.db import upgrade
from tests.conftest import PROJECT_ROOT
from tests.integration.smart import APP_CLIENT, SmartClient

APP_ORIGIN = "https://localhost:8443"
ORG_CONFIG = PROJECT_ROOT / "config" / "sandbox-organisation.toml"
SCOPES = (
    "launch openid fhirUser offline_access patient/Patient.rs patient/Observation.rs "
    "patient/MedicationRequest.rs patient/Medication.rs patient/Condition.rs "
    "patient/Practitioner.rs patient/PractitionerRole.rs patient/Organization.rs "
    "patient/Flag.crus patient/Task.crus patient/DocumentReference.cs"
)


def issuers_file(
    folder: Path, smart: SmartClient, client_id: str, *, toml: str = "", **extra: Any
) -> Path:
    """An issuer allow-list naming the running sandbox (its port changes per test session);
    `toml` adds lines to the issuer's table as written (a CDS client's inline JWKS)."""
    lines = [
        "[[issuer]]",
        'name = "Sandbox EHR"',
        f'iss = "{smart.iss}"',
        f'client_id = "{client_id}"',
        f'auth_method = "{extra.pop("auth_method", "none")}"',
        f'scopes = "{extra.pop("scopes", SCOPES)}"',
        f'frame_ancestors = ["{smart.origin}"]',
        f'tls_ca_file = "{smart.sandbox.ca_path}"',
        *(f"{key} = {json.dumps(value)}" for key, value in extra.items()),
    ]
    path = folder / f"issuers-{client_id}.toml"
    path.write_text("\n".join(lines) + "\n" + toml)
    return path


def make_app(
    folder: Path,
    smart: SmartClient,
    client_id: str,
    *,
    timeout: float = 5,
    toml: str = "",
    **extra: Any,
) -> Flask:
    """The app configured for the sandbox, on a fresh migrated SQLite database in `folder`."""
    database = f"sqlite:///{folder / f'app-{client_id}.db'}"
    upgrade(database)
    return create_app(
        {
            "BASE_URL": APP_ORIGIN,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "TOKEN_KEY": Fernet.generate_key().decode(),
            "ISSUERS_FILE": str(issuers_file(folder, smart, client_id, toml=toml, **extra)),
            "ORG_CONFIG": str(ORG_CONFIG),
            "DATABASE_URL": database,
            "INSTANCE_DIR": str(folder),
            "FHIR_TIMEOUT_S": str(timeout),
            "LOG_LEVEL": "WARNING",
        }
    )


@contextmanager
def sandbox_app(sandbox: Sandbox, folder: Path, **options: Any) -> Iterator[Flask]:
    """`make_app` for the app's own client at the sandbox, closed after the block."""
    application = make_app(folder, SmartClient(sandbox), APP_CLIENT, **options)
    try:
        yield application
    finally:
        application.extensions["smartapp"].close()


@dataclass
class Launched:
    """A launched app page."""

    handle: str
    response: Any

    @property
    def html(self) -> str:
        return str(self.response.get_data(as_text=True))

    def attribute(self, testid: str, name: str) -> str:
        match = re.search(rf'data-testid="{testid}"[^>]*?{name}="([^"]*)"', self.html, re.S)
        assert match, f"{testid} {name} not on the page"
        return match.group(1)

    def finding_codes(self) -> list[str]:
        """Every finding on the page (the main list and the program panel's), in the order of
        the evaluation's JSON: critical, warning, info, then by code."""
        found = re.findall(r'class="finding severity-([a-z]+)" data-code="([^"]+)"', self.html)
        rank = {"critical": 0, "warning": 1, "info": 2}
        return [code for _, code in sorted(found, key=lambda f: (rank[f[0]], f[1]))]


def authorize_at_ehr(smart: SmartClient, authorize_url: str) -> str:
    """Follow the EHR's authorize step (auto sign-in and approval) to the app's callback URL."""
    answer = smart.session.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:300]
    return str(answer.headers["Location"])


def ehr_launch(client: FlaskClient, smart: SmartClient, patient: str, **binding: Any) -> Launched:
    """Chart -> /launch -> EHR authorize -> /callback -> /chart, as a browser would."""
    launch = smart.launch(patient, **binding)
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    return finish(client, smart, started.headers["Location"])


def finish(client: FlaskClient, smart: SmartClient, authorize_url: str) -> Launched:
    """From the authorize URL on: the EHR's answer, the callback and the page."""
    callback = urlsplit(authorize_at_ehr(smart, authorize_url))
    assert f"{callback.scheme}://{callback.netloc}" == APP_ORIGIN
    returned = client.get(callback.path, query_string=callback.query)
    assert returned.status_code == 303, returned.get_data(as_text=True)[:800]
    handle = parse_qs(urlsplit(returned.headers["Location"]).query)["h"][0]
    page = client.get("/chart", query_string={"h": handle})
    return Launched(handle, page)


def cli_evaluation(
    smart: SmartClient, patient: str, registry: dict[str, Any], folder: Path
) -> dict[str, Any]:
    """`smartapp evaluate` on the sandbox's own data for one patient (same settings as the app)."""
    registry_file = folder / "registry.json"
    registry_file.write_text(json.dumps(registry))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "smartapp.commands.cli",
            "evaluate",
            str(smart.sandbox.bundle_path),
            "--config",
            str(ORG_CONFIG),
            "--registry",
            str(registry_file),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for line in run.stdout.splitlines():
        output: dict[str, Any] = json.loads(line)
        if output["patient"] == f"Patient/{patient}":
            return output
    raise AssertionError(f"{patient} not in the sandbox bundle")


def http_session(smart: SmartClient) -> requests.Session:
    """A session trusting the sandbox CA (the environment's CA bundle is ignored)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(smart.sandbox.ca_path)
    return session
