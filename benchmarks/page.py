"""Chart page benchmark: the app's time to serve a launched page against the sandbox EHR, as a
ratio to a minimal client issuing the same FHIR reads concurrently, measured side by side."""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from sandbox.ehr.config import load_config
from sandbox.run import Sandbox
from smartapp.ehr.patient_reads import MEDICATION_INCLUDE, REQUESTER_INCLUDE, lab_code_query
from tests.integration.app_harness import ehr_launch, make_app
from tests.integration.smart import SmartClient

PATIENT = "sbx-long-weekly-history"  # 107 ANCs over two search pages
ROUNDS = 15


def _all_pages(session: requests.Session, url: str, params: dict[str, Any] | None) -> int:
    count = 0
    while url:
        bundle: dict[str, Any] = session.get(url, params=params, timeout=30).json()
        count += len(bundle.get("entry", []))
        url = next(
            (link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), ""
        )
        params = None
    return count


def minimal_reads(base: str, token: str, ca: Path, patient: str) -> float:
    """Seconds for the page's four reads issued concurrently by a bare requests client (the
    sandbox offers both MedicationRequest includes, so the app needs no follow-up read)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
    reads = [
        (f"{base}/Patient/{patient}", None),
        (
            f"{base}/MedicationRequest",
            {"patient": patient, "_include": [MEDICATION_INCLUDE, REQUESTER_INCLUDE]},
        ),
        (
            f"{base}/Observation",
            {
                "patient": patient,
                "code": lab_code_query(),
                "category": "laboratory",
                "_count": "100",
            },
        ),
        (f"{base}/Condition", {"patient": patient}),
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda read: _all_pages(session, *read), reads))
    return time.perf_counter() - started


def page_ratio() -> tuple[float, float, float]:
    """Median ms of the app's page and of the minimal client, and their ratio."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = load_config().replace(
            port=0, engine_port=0, tls_dir=root / "tls", data_dir=root / "data"
        )
        with Sandbox(config) as sandbox:
            smart = SmartClient(sandbox)
            app = make_app(root, smart, "clozapine-smartapp")
            client = app.test_client()
            launched = ehr_launch(client, smart, PATIENT)
            grant = app.extensions["smartapp"].sessions.get(launched.handle).tokens
            app_times, bare_times = [], []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                assert client.get("/chart", query_string={"h": launched.handle}).status_code == 200
                app_times.append(time.perf_counter() - started)
                bare_times.append(
                    minimal_reads(smart.iss, grant.access_token, sandbox.ca_path, PATIENT)
                )
            app.extensions["smartapp"].close()
    app_ms = statistics.median(app_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    return app_ms, bare_ms, app_ms / bare_ms
