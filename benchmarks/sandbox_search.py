"""Sandbox FHIR server benchmark: one patient's Observation search with every patient loaded.

The engine's in-memory repository scans linearly; the sandbox indexes by patient so that one
patient's ANC search stays well under a quarter of a second however many patients it holds.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import requests

from benchmarks.synthetic import AS_OF
from sandbox.fhirserver import start_fhir_server
from sandbox.patients import build

LOINC = "http://loinc.org"
ANC_QUERY = f"code={LOINC}|751-8,{LOINC}|753-4,{LOINC}|26499-4&category=laboratory&_count=100"
REPEATS = 3


class SearchTimes(NamedTuple):
    """Median over patients and the slowest patient's median, in milliseconds."""

    patients: int
    median_ms: float
    slowest_ms: float
    slowest_patient: str


def observation_search_times() -> SearchTimes:
    """Each sandbox patient's Observation search (every page), the median of three runs."""
    bundle, manifest = build(AS_OF)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cohort.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        server = start_fhir_server(0, load_file=path)
        try:
            with requests.Session() as http:
                http.trust_env = False
                times = {
                    patient["id"]: _median_search_ms(http, server.base_url, patient["id"])
                    for patient in manifest["patients"]
                }
        finally:
            server.stop()
    slowest = max(times, key=times.__getitem__)
    return SearchTimes(len(times), statistics.median(times.values()), times[slowest], slowest)


def _median_search_ms(http: requests.Session, base: str, patient: str) -> float:
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        url: str | None = f"{base}/Observation?patient={patient}&{ANC_QUERY}"
        while url:
            page: dict[str, Any] = http.get(url, timeout=30).json()
            url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)
