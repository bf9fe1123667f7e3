"""In Chromium: a severe patient whose orders the EHR sends malformed gets no status, only the
page naming the data that could not be read (never "Not on clozapine" beside a severe ANC)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import save_screenshot
from tests.e2e.stack import Stack, http_session

pytestmark = pytest.mark.e2e

SEVERE = "sbx-severe"  # ANC 900 two days ago, then 420 yesterday
LOAD_TIMEOUT_MS = 20_000
TITLE = "The app cannot evaluate this patient: medication orders could not be read completely"
# The status block of an evaluated page (smartapp/templates/chart.html's test hooks).
STATUS_HOOKS = ("overall", "status-label", "recommendation", "next-due", "anc")


@contextmanager
def app_fault(stack: Stack, **fault: Any) -> Iterator[None]:
    """A sandbox fault for the app's client while the block runs, cleared after it."""
    client_id = stack.sandbox.config.app_client_id
    control = f"{stack.sandbox.config.origin}/_sandbox/faults"
    with http_session(stack.sandbox) as session:
        added = session.post(control, json={**fault, "client_id": client_id}, timeout=10)
        assert added.status_code == 201, added.text
        try:
            yield
        finally:
            session.delete(control, params={"client_id": client_id}, timeout=10)


def test_malformed_orders_on_a_severe_patient_show_the_named_message_and_no_status(
    stack, open_browser
) -> None:
    opened = open_browser()
    fault = {
        "fault": "malformed_searchset",
        "resource_type": "MedicationRequest",
        "variant": "entry_object",
    }
    with app_fault(stack, **fault):
        opened.page.goto(stack.chart_url(SEVERE))
        app = opened.page.frame_locator("iframe.app")
        title = app.get_by_test_id("error-title")
        expect(title).to_have_text(TITLE, timeout=LOAD_TIMEOUT_MS)
    save_screenshot(opened.page, "chart-malformed-orders")
    message = app.get_by_test_id("error-message")
    expect(message).to_contain_text("could be the current clozapine order or a low ANC")
    expect(message).to_contain_text("Try again in a few minutes")
    record = app.get_by_test_id("unusable-record")
    expect(record).to_have_attribute("data-resource-types", "MedicationRequest")
    expect(app.get_by_test_id("unusable-detail")).to_contain_text("its entry is not a list")
    for hook in STATUS_HOOKS:
        expect(app.get_by_test_id(hook)).to_have_count(0)
    body = app.locator("body")
    for words in ("Not on clozapine", "No findings", "Monitoring up to date", "Continue"):
        expect(body).not_to_contain_text(words)
