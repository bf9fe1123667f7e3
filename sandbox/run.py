"""Start and stop the whole sandbox EHR: patients, FHIR engine, and the HTTPS EHR front.

    python -m sandbox.run [--config sandbox/sandbox.toml] [--as-of YYYY-MM-DD] [--port P] ...

prints how long start-up took and the chart URL, and stops everything on Ctrl-C or SIGTERM.
Tests use the same thing through `Sandbox(config).start()` / `.stop()` or `with Sandbox(...)`.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from types import FrameType, TracebackType
from typing import TextIO

from sandbox.ehr.app import create_app
from sandbox.ehr.config import (
    CDS_MODES,
    DEFAULT_CONFIG_FILE,
    ConfigError,
    SandboxConfig,
    load_config,
    validate_config,
)
from sandbox.ehr.server import EhrServer
from sandbox.ehr.tls import LocalCA, ensure_local_ca
from sandbox.fhirserver import FhirServer, FhirServerError, is_installed, start_fhir_server

PATIENTS_TIMEOUT_S = 60


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says which part and why."""


def free_port(host: str = "127.0.0.1") -> int:
    """A loopback port free right now (for tests that run beside a developer's sandbox)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class Sandbox:
    """The running sandbox: FHIR engine (Node) and EHR front (chart, SMART auth, FHIR proxy)."""

    def __init__(self, config: SandboxConfig, *, say: Callable[[str], None] | None = None) -> None:
        if config.port == 0:
            config = config.replace(port=free_port(config.host))
        self.config = config
        self._say = say or (lambda _message: None)
        self._engine: FhirServer | None = None
        self._front: EhrServer | None = None
        self.ca: LocalCA | None = None
        self.startup_s = 0.0

    @property
    def bundle_path(self) -> Path:
        return self.config.data_dir / "patients.json"

    @property
    def manifest_path(self) -> Path:
        return self.config.data_dir / "manifest.json"

    @property
    def ca_path(self) -> Path:
        if self.ca is None:
            raise SandboxError("the sandbox is not started")
        return self.ca.ca_path

    @property
    def engine_base(self) -> str:
        if self._engine is None:
            raise SandboxError("the sandbox is not started")
        return self._engine.base_url

    def start(self) -> Sandbox:
        """Build the patients, start the engine with them, then the EHR front; time it all."""
        began = time.perf_counter()
        if not is_installed():
            raise SandboxError(
                "the FHIR engine is not installed: run `npm ci` in sandbox/fhir-server"
            )
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.ca = ensure_local_ca(self.config.tls_dir)
        self._build_patients()
        try:
            self._engine = start_fhir_server(
                self.config.engine_port,
                load_file=self.bundle_path,
                public_base=self.config.fhir_base,
            )
            app = create_app(
                self.config,
                engine_base=self._engine.base_url,
                manifest_path=self.manifest_path,
                ca_path=self.ca.ca_path,
            )
            self._front = EhrServer(
                app,
                self.config.host,
                self.config.port,
                self.ca.server_ssl_context(self.config.host),
            )
            self._front.start()
        except (FhirServerError, OSError, ConfigError) as error:
            self.stop()
            raise SandboxError(f"sandbox start-up failed: {error}") from error
        self.startup_s = time.perf_counter() - began
        return self

    def _build_patients(self) -> None:
        command = [sys.executable, "-m", "sandbox.patients", "--out", str(self.bundle_path)]
        command += ["--manifest", str(self.manifest_path)]
        if self.config.as_of is not None:
            command += ["--as-of", self.config.as_of.isoformat()]
        # Fixed interpreter and module, arguments from our own settings; no shell.
        result = subprocess.run(  # noqa: S603
            command,
            capture_output=True,
            text=True,
            timeout=PATIENTS_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise SandboxError(f"building the patients failed: {result.stderr.strip()}")
        self._say(result.stdout.strip())

    def stop(self) -> None:
        """Stop the EHR front, then the engine; safe to call twice."""
        if self._front is not None:
            self._front.stop()
            self._front = None
        if self._engine is not None:
            self._engine.stop()
            self._engine = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.run",
        description="Start the sandbox EHR (FHIR engine, SMART authorization server, chart).",
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_FILE, help="TOML settings")
    parser.add_argument("--as-of", type=date.fromisoformat, help="date the patients are built for")
    parser.add_argument("--port", type=int, help="EHR front HTTPS port (0: a free one)")
    parser.add_argument("--engine-port", type=int, help="internal FHIR engine port (0: free)")
    parser.add_argument("--app-launch-url", help="the SMART app's launch URL")
    parser.add_argument("--app-client-id", help="the client the chart launches")
    parser.add_argument("--default-vendor", choices=("generic", "epic", "oracle"))
    parser.add_argument("--access-token-lifetime", type=int, help="seconds an access token lives")
    parser.add_argument("--cds-services-url", help="the CDS Hooks discovery URL the chart calls")
    parser.add_argument(
        "--cds-mode",
        choices=CDS_MODES,
        help="send the chart's CDS calls with prefetch or with fhirAuthorization only",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config).replace(
            as_of=args.as_of,
            port=args.port,
            engine_port=args.engine_port,
            app_launch_url=args.app_launch_url,
            app_client_id=args.app_client_id,
            default_vendor=args.default_vendor,
            access_token_lifetime_s=args.access_token_lifetime,
            cds_services_url=args.cds_services_url,
            cds_mode=args.cds_mode,
        )
        validate_config(config)
        sandbox = Sandbox(config, say=_print).start()
    except (ConfigError, SandboxError) as error:
        _print(f"sandbox: {error}", stream=sys.stderr)
        return 1
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    _print(f"sandbox ready in {sandbox.startup_s:.1f} s: {config.chart_url}")
    _print(f"  patient portal: {config.portal_url}")
    _print(f"  FHIR base (iss): {config.fhir_base}")
    _print(f"  SMART configuration: {config.fhir_base}/.well-known/smart-configuration")
    _print(f"  local CA (trust it, e.g. requests verify=): {sandbox.ca_path}")
    if config.cds_services_url:
        _print(
            f"  CDS Hooks service called by the chart ({config.cds_mode}): {config.cds_services_url}"
        )
        _print(f"  the chart's CDS client key (JWKS): {config.cds_jwks_url}")
    _print("  Ctrl-C stops it.")
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        sandbox.stop()
        _print("sandbox stopped")
    return 0


def _print(message: str, stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
