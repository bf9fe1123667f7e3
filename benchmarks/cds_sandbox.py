"""End-to-end `order-sign` from the sandbox chart, with `fhirAuthorization` only (no prefetch).

The sandbox EHR (its FHIR engine, SMART server and chart) and the app under gunicorn
(config/gunicorn.conf.py) run over HTTPS on loopback, as `scripts/run` starts them. Each timed
request is the prescriber's click on **Sign order**: the chart's POST, which builds the
`order-sign` request with a fresh read-only token, signs its ES384 JWT, calls the service,
and keeps its cards; the service verifies the JWT (and writes its `jti`), reads the patient's
record from the sandbox's FHIR API with that token (paging, completeness), evaluates it and
answers the card. The order is drafted (and `order-select` asked) before the clock starts.
Patients with a critical card are used, so every signing stops at its card.

.venv/bin/python -m benchmarks.cds_sandbox
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import requests

from benchmarks.cds import percentile
from sandbox.ehr.config import load_config
from sandbox.run import Sandbox, free_port
from tests.e2e.stack import AppServer, app_environment, http_session, prepare_database

PATIENTS = ("sbx-weekly-overdue", "sbx-no-anc", "sbx-monthly-overdue", "sbx-biweekly-overdue")
WARM_UP = 8
ROUNDS = 50  # per patient
TARGET_P95_MS = 500.0
CLIENT_ID = "clozapine-smartapp"
_DRAFT = re.compile(r'data-testid="order" data-draft="([^"]+)"')


def _draft(session: requests.Session, origin: str, patient: str, token: str) -> str:
    form = {"csrf_token": token, "dose_mg": "100", "start": date.today().isoformat()}
    answer = session.post(
        f"{origin}/chart/{patient}/orders", data={**form, "supply_days": "7"}, timeout=30
    )
    found = _DRAFT.search(answer.text)
    if answer.status_code != 200 or found is None:
        raise RuntimeError(f"drafting an order failed ({answer.status_code})")
    return found.group(1)


def _sign_ms(session: requests.Session, origin: str, patient: str, token: str) -> float:
    draft = _draft(session, origin, patient, token)
    url = f"{origin}/chart/{patient}/orders/{draft}/sign"
    began = time.perf_counter()
    answer = session.post(url, data={"csrf_token": token}, timeout=30, allow_redirects=False)
    elapsed = (time.perf_counter() - began) * 1000
    if answer.status_code != 303:  # a card: the chart shows the order page with it
        raise RuntimeError(f"order-sign did not answer a card ({answer.status_code})")
    return elapsed


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cds-sandbox-bench-") as name:
        folder = Path(name)
        app_port = free_port()
        config = load_config().replace(
            port=0,
            engine_port=0,
            tls_dir=folder / "tls",
            data_dir=folder / "sandbox",
            cds_services_url=f"https://localhost:{app_port}/cds-services",
            cds_mode="fhir-authorization",
        )
        with Sandbox(config) as sandbox:
            env = app_environment(folder, sandbox, CLIENT_ID, app_port)
            env["SMARTAPP_LOG_LEVEL"] = "ERROR"
            prepare_database(folder, sandbox, env)
            app = AppServer(env, folder / "gunicorn.log").start(sandbox.ca_path)
            try:
                return _timed(sandbox)
            finally:
                app.stop()


def _timed(sandbox: Sandbox) -> dict[str, Any]:
    origin = sandbox.config.origin
    with http_session(sandbox) as session:
        session.get(f"{origin}/chart", timeout=30)
        token = str(session.cookies.get("sbx_csrf"))
        for index in range(WARM_UP):
            _sign_ms(session, origin, PATIENTS[index % len(PATIENTS)], token)
        times = [
            _sign_ms(session, origin, patient, token) for _ in range(ROUNDS) for patient in PATIENTS
        ]
    return {
        "requests": len(times),
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "slowest": max(times),
    }


def report(figures: dict[str, Any]) -> str:
    met = "yes" if figures["p95"] <= TARGET_P95_MS else "no"
    return (
        f"cds-ehr:  order-sign from the sandbox chart, fhirAuthorization only,"
        f" {figures['requests']} signings: p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f}"
        f" ms, slowest {figures['slowest']:.0f} ms  target p95 at most {TARGET_P95_MS:.0f} ms:"
        f" {met}"
    )


def main() -> int:
    print(report(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
