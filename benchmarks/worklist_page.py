"""Worklist page benchmark: a stored run of 10,000 patients served by the app (first page, a
filter, a sort, a deep page, the whole CSV) and each page drawn by headless Chromium.

.venv/bin/python -m benchmarks.worklist_page
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from smartapp.app import create_app
from smartapp.db import StoredPatient, StoredRun
from tests.app_helpers import app_settings, open_session

PATIENTS = 10_000
ROUNDS = 7
TARGET_S = 1.0
CHROMIUM = Path("/usr/bin/chromium")
STATUSES = ("action-required", "attention", "ok", "not-applicable")
QUERIES: dict[str, dict[str, str]] = {
    "first page": {},
    "status filter": {"status": "attention"},
    "sorted by name, descending": {"sort": "name", "order": "desc"},
    "due-date filter, page 40": {"due_by": "2026-12-10", "page": "40"},
}
ISS = "https://ehr.example.org/fhir"
COORDINATOR = f"{ISS}/Practitioner/coord-1"


def _patient(n: int) -> StoredPatient:
    overall = STATUSES[n % 7 % 4]
    due = date(2026, 11, 1) + timedelta(days=n % 60) if n % 11 else None
    evaluation = {
        "patient": f"Patient/bench-{n}",
        "overall": overall,
        "recommendation": "continue",
        "anc": {"value_per_ul": 900 + n % 2000, "collected": "2026-10-20", "category": "mild"},
        "monitoring": {"next_due": due.isoformat() if due else None, "days_overdue": n % 30},
        "findings": [
            {
                "code": "monitoring-overdue",
                "severity": "critical",
                "message": "The ANC is overdue.",
                "rule": "MON-OVERDUE",
                "citation": "Clozapine prescribing information, section 2.3",
            }
        ],
    }
    return StoredPatient(
        patient=f"Patient/bench-{n}",
        overall=overall,
        name=f"Synthetic{n:05d}, Pat",
        mrn=f"MRN{n:08d}",
        phone=f"+1 555 01{n % 100:02d}",
        prescriber=f"Alex Prescriber{n % 40} (Practitioner/dr-{n % 40})",
        next_due=due,
        days_overdue=n % 30,
        data_complete=n % 97 != 0,
        evaluation_json=json.dumps(evaluation),
    )


def _store(app: Flask) -> None:
    finished = datetime.now(UTC) - timedelta(hours=3)
    run = StoredRun(
        "bench-run", ISS, "clinic", finished - timedelta(minutes=5), finished, None,
        date(2026, 11, 25), "us-label-2025", PATIENTS, {"by_status": {}},
    )  # fmt: skip
    app.extensions["smartapp"].worklist_runs.save(run, (_patient(n) for n in range(PATIENTS)))


def _median(work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(ROUNDS):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(folder: Path) -> dict[str, dict[str, float]]:
    """Median seconds of each page served, and drawn by Chromium when it is installed."""
    app = create_app(app_settings(folder, WORKLIST_USERS=COORDINATOR, LOG_LEVEL="ERROR"))
    try:
        _store(app)
        handle = open_session(app, COORDINATOR, patient=None, now=datetime.now(UTC))
        client = app.test_client()
        figures: dict[str, dict[str, float]] = {}
        pages: dict[str, str] = {}
        for label, query in QUERIES.items():

            def served(q: dict[str, str] = query) -> str:
                answer = client.get("/worklist", query_string={"h": handle, **q})
                return answer.get_data(as_text=True)

            seconds, html = _median(served)
            figures[label] = {"served_s": seconds}
            pages[label] = html
        seconds, body = _median(
            lambda: client.get("/worklist/worklist.csv", query_string={"h": handle}).get_data()
        )
        figures["CSV of all 10,000"] = {"served_s": seconds, "bytes": float(len(body))}
        for label, seconds in _drawn(pages).items():
            figures[label]["drawn_s"] = seconds
        return figures
    finally:
        app.extensions["smartapp"].close()


def _drawn(pages: dict[str, str]) -> dict[str, float]:
    """Median seconds for Chromium to parse, lay out and draw each served page (none when
    Chromium is absent)."""
    if not CHROMIUM.exists():
        return {}
    from playwright.sync_api import sync_playwright

    drawn: dict[str, float] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            for label, html in pages.items():

                def draw(h: str = html) -> None:
                    _draw(page, h)

                drawn[label] = _median(draw)[0]
        finally:
            browser.close()
    return drawn


def _draw(page: Any, html: str) -> None:
    page.set_content(html, wait_until="load")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")


def report(figures: dict[str, dict[str, float]]) -> str:
    """The figures as lines, each against the 1 s target."""
    lines = [f"worklist page, stored run of {PATIENTS:,} patients (median of {ROUNDS}):"]
    for label, figure in figures.items():
        served, drawn = figure["served_s"], figure.get("drawn_s")
        total = served + (drawn or 0.0)
        shown = f"  {label}: served {served * 1000:.0f} ms"
        if drawn is not None:
            shown += f", drawn by Chromium {drawn * 1000:.0f} ms, together {total * 1000:.0f} ms"
        if "bytes" in figure:
            shown += f" ({figure['bytes'] / 1e6:.1f} MB)"
        met = "yes" if total < TARGET_S else "NO"
        lines.append(f"{shown}; under {TARGET_S:.0f} s: {met}")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="worklist-page-bench-") as folder:
        print(report(measure(Path(folder))))
