"""The coordinator's worklist page in headless Chromium: sign-in without a patient, the stored
run's patients filtered, a row's findings opened, the CSV downloaded, axe-core clean."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from smartapp.db import Database, SecretCipher, StoredPatient, StoredRun, WorklistRuns
from tests.e2e.accessibility import axe_violations, blocking
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
LOAD_TIMEOUT_MS = 20_000
# Stored as if one of its export lines could not be read.
INCOMPLETE = "sbx-weekly-current"
ORDER = {"action-required": 0, "attention": 1, "ok": 2, "not-applicable": 3}


@pytest.fixture(scope="module")
def stored_run(stack: Stack, evaluations: dict[str, dict[str, Any]]) -> Iterator[list[str]]:
    """A run of every sandbox patient, evaluated by `smartapp evaluate`, stored in the app's
    database as `smartapp worklist fetch` stores one; the patients in worklist order."""
    ordered = sorted(evaluations.values(), key=lambda e: (ORDER[e["overall"]], e["patient"]))
    patients = [_stored(e) for e in ordered]
    finished = datetime.now(UTC) - timedelta(hours=1)
    run = StoredRun(
        run_id="e2e-run",
        iss=stack.sandbox.config.fhir_base,
        group_id="clozapine-patients",
        started_at=finished - timedelta(minutes=2),
        finished_at=finished,
        export_time=None,
        as_of=date.fromisoformat(ordered[0]["as_of"]),
        policy=ordered[0]["policy"],
        patients=len(patients),
        counts={"by_status": {}, "unusable_lines": 1, "export_errors": 0},
    )
    database = Database(stack.app.env["SMARTAPP_DATABASE_URL"])
    try:
        cipher = SecretCipher(stack.app.env["SMARTAPP_TOKEN_KEY"])
        WorklistRuns(database, cipher).save(run, patients)
    finally:
        database.dispose()
    yield [p.patient for p in patients]


def _stored(evaluation: dict[str, Any]) -> StoredPatient:
    monitoring = evaluation.get("monitoring") or {}
    due = monitoring.get("next_due")
    patient = str(evaluation["patient"])
    return StoredPatient(
        patient=patient,
        overall=evaluation["overall"],
        name=patient.removeprefix("Patient/"),
        mrn="",
        phone="",
        prescriber="",
        next_due=date.fromisoformat(due) if due else None,
        days_overdue=monitoring.get("days_overdue"),
        data_complete=patient != f"Patient/{INCOMPLETE}",
        evaluation_json=json.dumps(evaluation),
    )


def open_worklist(page: Page, stack: Stack) -> None:
    iss = quote(stack.sandbox.config.fhir_base, safe="")
    page.goto(f"{stack.app.origin}/worklist/standalone?iss={iss}", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_url(f"{stack.app.origin}/worklist?h=*", timeout=LOAD_TIMEOUT_MS)


def shown(page: Page) -> list[str]:
    rows = page.locator('[data-testid="row"]')
    return [rows.nth(n).get_attribute("data-patient") or "" for n in range(rows.count())]


def test_worklist_page_filters_opens_findings_and_downloads_the_csv(
    stack, open_browser, stored_run
) -> None:
    opened = open_browser()
    page = opened.page
    open_worklist(page, stack)
    assert shown(page) == stored_run
    incomplete = page.locator(f'[data-patient="Patient/{INCOMPLETE}"]')
    expect(incomplete.locator('[data-testid="status"]')).not_to_have_text("OK")
    expect(page.locator('[data-testid="read-problems"]')).to_be_visible()

    page.select_option('select[name="status"]', "action-required")
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    urgent = shown(page)
    assert urgent and all(
        page.locator(f'[data-patient="{p}"]').get_attribute("data-overall") == "action-required"
        for p in urgent
    )
    first = page.locator('[data-testid="row"]').first
    first.locator("summary").click()
    expect(first.locator(".finding").first).to_be_visible()
    expect(first.locator(".source").first).to_contain_text("Rule ")

    with page.expect_download() as download:
        page.click('[data-testid="csv"]')
    path = download.value.path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][0] == "patient" and [r[0] for r in rows[1:]] == urgent


def test_worklist_page_has_no_serious_wcag_violation(stack, open_browser, stored_run) -> None:
    page = open_browser().page
    open_worklist(page, stack)
    page.locator('[data-testid="row"] summary').first.click()
    violations = axe_violations(page.main_frame, stack.app.origin)
    assert blocking(violations) == [], violations
