"""The coordinator's worklist page in headless Chromium: sign-in without a patient, the stored
run's patients filtered, a row's findings opened, the CSV downloaded, axe-core clean, usable at
320 px wide and with the keyboard alone."""

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
from tests.e2e.browser import save_screenshot
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
LOAD_TIMEOUT_MS = 20_000
SMALLEST_PX = 320
# The element the keyboard is on: its test id, its form name, or its tag.
FOCUSED = (
    "() => { const e = document.activeElement;"
    " return e ? (e.dataset.testid || e.getAttribute('name') || e.getAttribute('type')"
    " || e.tagName) : ''; }"
)
# The elements whose right edge passes the viewport's, outside the table's own scroller.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.body.querySelectorAll('*')]
    .filter(e => !e.closest('.worklist-table') || e.matches('.worklist-table'))
    .filter(e => !e.closest('.visually-hidden'))
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + (e.className ? '.' + e.className : ''));
}"""
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


def test_worklist_page_fits_320_px_with_the_table_scrolling_in_its_own_box(
    stack, open_browser, stored_run
) -> None:
    opened = open_browser(width=SMALLEST_PX)
    page = opened.page
    open_worklist(page, stack)
    expect(page.locator('[data-testid="row"]').first).to_be_visible()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    save_screenshot(page, "worklist-320px")
    assert widths[0] <= widths[1] <= SMALLEST_PX, widths  # no horizontal page scroll
    assert page.evaluate(OVERFLOWING) == []
    scroller = page.evaluate(
        "() => { const s = document.querySelector('.worklist-table');"
        " return [s.scrollWidth, s.clientWidth, getComputedStyle(s).overflowX]; }"
    )
    assert scroller[2] == "auto" and scroller[1] <= widths[1], scroller  # the table scrolls inside
    # At this width the table is wider than its box, and the keyboard alone scrolls it.
    assert scroller[0] > scroller[1], scroller
    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == "table-scroller":
            break
    else:
        raise AssertionError("the keyboard never reached the table's scroller")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.worklist-table').scrollLeft > 0")


def test_worklist_page_works_with_the_keyboard_alone(stack, open_browser, stored_run) -> None:
    opened = open_browser()
    page = opened.page
    open_worklist(page, stack)
    page.locator("body").focus()

    def tab_to(target: str, limit: int = 40) -> list[str]:
        reached: list[str] = []
        for _ in range(limit):
            page.keyboard.press("Tab")
            reached.append(page.evaluate(FOCUSED))
            if reached[-1] == target:
                return reached
        raise AssertionError(f"the keyboard never reached {target}: {reached}")

    tab_to("status")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("ArrowDown")  # "any" to the first status
    chosen = page.locator('select[name="status"]').input_value()
    assert chosen, "the status filter did not change from the keyboard"
    reached = tab_to("submit")
    assert {"prescriber", "due_by", "sort", "order"} <= set(reached), reached
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"status={chosen}" in page.url, page.url
    rows = page.locator('[data-testid="row"]')
    assert rows.count() and all(
        rows.nth(n).get_attribute("data-overall") == chosen for n in range(rows.count())
    )

    tab_to("SUMMARY")
    page.keyboard.press("Enter")
    first = rows.first
    expect(first.locator("details")).to_have_attribute("open", "")
    expect(first.locator(".finding").first).to_be_visible()
