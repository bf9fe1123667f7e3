"""The app as deployed for the browser tests: its sandbox client, settings and gunicorn over HTTPS."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet

from launch import DEFAULT_SCOPES
from sandbox.run import Sandbox
from tests.conftest import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent
ORG_CONFIG = PROJECT_ROOT / "config" / "sandbox-organisation.toml"
CLIENTS_FILE = PROJECT_ROOT / "sandbox" / "clients.toml"
SHIPPED_CLIENT = "clozapine-smartapp"
# The practitioner the sandbox signs in (sandbox/ehr/services.py), named a worklist user as
# scripts/run names them.
COORDINATOR = "Practitioner/sbx-dr-ada"
STARTUP_TIMEOUT_S = 30
ADMIN_ID = "sbx-dr-ada"


def http_session(sandbox: Sandbox) -> requests.Session:
    """A session trusting only the sandbox CA (the environment's CA bundle is ignored)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sandbox.ca_path)
    return session


def register_app_client(sandbox: Sandbox, client_id: str, app_origin: str) -> None:
    """The shipped public client, with this run's redirect and launch URLs.

    Its scopes are the shipped ones plus the app's default request: the sandbox grants a
    requested scope only when one registered scope covers all of it, and a registration of
    `patient/Flag.cu` (as clients.toml had) does not cover the app's `patient/Flag.cru`.
    """
    shipped = tomllib.loads(CLIENTS_FILE.read_text(encoding="utf-8"))["clients"][SHIPPED_CLIENT]
    scope = list(dict.fromkeys([*shipped["scope"], *DEFAULT_SCOPES.split()]))
    body = {
        **shipped,
        "scope": scope,
        "client_id": client_id,
        "name": "Clozapine ANC monitor (browser tests)",
        "redirect_uris": [
            f"{app_origin}/callback",
            f"{app_origin}/patient/callback",
            f"{app_origin}/worklist/callback",
        ],
        "launch_url": f"{app_origin}/launch",
    }
    with http_session(sandbox) as session:
        answer = session.post(f"{sandbox.config.origin}/_sandbox/clients", json=body, timeout=10)
    assert answer.status_code == 201, answer.text


def write_issuers_file(folder: Path, sandbox: Sandbox, client_id: str) -> Path:
    """config/sandbox-issuers.toml, pointed at this run's sandbox port, CA, client and CDS
    client (the chart's CDS Hooks key)."""
    lines = [
        "[[issuer]]",
        'name = "Sandbox EHR"',
        f'iss = "{sandbox.config.fhir_base}"',
        f'client_id = "{client_id}"',
        'auth_method = "none"',
        'scope_version = "v2"',
        'vendor = "generic"',
        f'frame_ancestors = ["{sandbox.config.origin}"]',
        "page_size = 100",
        'writeback = ["Flag", "Task", "DocumentReference"]',
        f'tls_ca_file = "{sandbox.ca_path}"',
        f'cds_client_iss = "{sandbox.config.cds_client_iss}"',
        f'cds_jwks_url = "{sandbox.config.cds_jwks_url}"',
        f'cds_fhir_server = "{sandbox.config.fhir_base}"',
    ]
    path = folder / "issuers.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def app_environment(folder: Path, sandbox: Sandbox, client_id: str, port: int) -> dict[str, str]:
    """What scripts/run exports, for this run's ports and files (no SMARTAPP_* leaks in)."""
    tls = sandbox.config.tls_dir
    settings = {
        "SMARTAPP_BASE_URL": f"https://localhost:{port}",
        "SMARTAPP_BIND": f"localhost:{port}",
        "SMARTAPP_SECRET_KEY": secrets.token_urlsafe(48),
        "SMARTAPP_TOKEN_KEY": Fernet.generate_key().decode(),
        "SMARTAPP_ISSUERS_FILE": str(write_issuers_file(folder, sandbox, client_id)),
        "SMARTAPP_ORG_CONFIG": str(ORG_CONFIG),
        "SMARTAPP_DATABASE_URL": f"sqlite:///{folder / 'smartapp.db'}",
        "SMARTAPP_INSTANCE_DIR": str(folder),
        "SMARTAPP_TLS_CERT": str(tls / "localhost.pem"),
        "SMARTAPP_TLS_KEY": str(tls / "localhost-key.pem"),
        "SMARTAPP_LOG_LEVEL": "WARNING",
        # As scripts/run: the practitioner the sandbox signs in administers the registry.
        "SMARTAPP_REGISTRY_ADMINS": f"{sandbox.config.fhir_base}/Practitioner/{ADMIN_ID}",
        "SMARTAPP_WORKLIST_USERS": f"{sandbox.config.fhir_base}/{COORDINATOR}",
    }
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SMARTAPP_")}
    return {**inherited, **settings}


def run_checked(command: list[str], env: dict[str, str]) -> str:
    """Run one of the project's commands from the project root; its stdout, or a clear failure."""
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr}{done.stdout}"
    return done.stdout


def prepare_database(folder: Path, sandbox: Sandbox, env: dict[str, str]) -> Path:
    """`smartapp db upgrade`, then the sandbox's program registry imported, as scripts/run does."""
    registry = folder / "registry.json"
    run_checked([str(VENV_BIN / "smartapp"), "db", "upgrade"], env)
    manifest = str(sandbox.manifest_path)
    build = [sys.executable, "-m", "sandbox.program_registry", "--manifest", manifest]
    run_checked([*build, "--out", str(registry)], env)
    run_checked([str(VENV_BIN / "smartapp"), "registry", "import", str(registry)], env)
    return registry


class AppServer:
    """gunicorn with config/gunicorn.conf.py serving the app over HTTPS on localhost."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.origin = env["SMARTAPP_BASE_URL"]
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, ca_path: Path) -> AppServer:
        # No control socket: gunicorn's default one is a single path per user, which a
        # developer's running app (scripts/run) or a parallel test run would share.
        config = ["-c", "config/gunicorn.conf.py", "--no-control-socket"]
        command = [str(VENV_BIN / "gunicorn"), *config, "smartapp.wsgi:app"]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up:\n{self.log()}")
            try:
                answer = requests.get(f"{self.origin}/healthz", verify=str(ca_path), timeout=2)
                if answer.status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"gunicorn did not answer /healthz in {STARTUP_TIMEOUT_S} s:\n{self.log()}"
        )

    def log(self, tail_chars: int = 4000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail_chars:]

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers), then SIGKILL if it lingers."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None


def cli_evaluations(bundle: Path, registry: Path) -> dict[str, dict[str, Any]]:
    """`smartapp evaluate` on the sandbox's own bundle, with the registry the app imported."""
    evaluate = [str(VENV_BIN / "smartapp"), "evaluate", str(bundle), "--config", str(ORG_CONFIG)]
    output = run_checked([*evaluate, "--registry", str(registry)], dict(os.environ))
    evaluations = [json.loads(line) for line in output.splitlines() if line.strip()]
    return {str(e["patient"]).removeprefix("Patient/"): e for e in evaluations}


@dataclass(frozen=True)
class Stack:
    """The running sandbox EHR and app, and the registry file the app imported."""

    sandbox: Sandbox
    app: AppServer
    registry: Path

    def chart_url(self, patient: str) -> str:
        return f"{self.sandbox.config.chart_url}/{patient}"

    def portal_url(self, patient: str, viewer: str = "patient") -> str:
        """The sandbox portal page that opens the patient view as the patient or a caregiver."""
        return f"{self.sandbox.config.portal_url}/{patient}?as={viewer}"
