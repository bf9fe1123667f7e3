"""CDS Hooks in the sandbox chart, in headless Chromium: the patient-view card at chart open, a
clozapine order drafted and signed for a patient with no ANC on file, the CBC suggestion
accepted (the ServiceRequest found in the FHIR engine), another card overridden with a reason
and found on the administrators' audit page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from smartapp.cds.cards import ACTIONS
from tests.e2e.browser import save_screenshot
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

PATIENT = "sbx-no-anc"
LOAD_TIMEOUT_MS = 20_000
CBC_LOINC = "57021-8"


def engine_search(stack: Stack, resource_type: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{stack.sandbox.engine_base}/{resource_type}", params={"patient": PATIENT}, timeout=10
    )
    assert answer.status_code == 200, answer.text[:300]
    return [entry["resource"] for entry in answer.json().get("entry", [])]


def test_cds_chart_cards_order_sign_accept_and_override_in_the_browser(
    stack, evaluations, open_browser
) -> None:
    expected = evaluations[PATIENT]
    assert expected["overall"] == "action-required"
    summary = ACTIONS[expected["findings"][0]["code"]]
    opened = open_browser()
    page = opened.page

    # Chart open: patient-view's card beside the app the chart launched.
    page.goto(stack.chart_url(PATIENT))
    panel = page.get_by_test_id("cds-panel")
    view_card = panel.locator('[data-testid="cds-card"][data-service="clozapine-anc-patient-view"]')
    expect(view_card).to_have_attribute("data-indicator", "critical")
    expect(view_card.get_by_test_id("cds-summary")).to_have_text(summary)
    app_frame = page.frame_locator("iframe.app")
    expect(app_frame.get_by_test_id("overall")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    view_uuid = view_card.get_attribute("data-uuid")
    save_screenshot(page, "cds-chart-patient-view")

    # Draft a clozapine order: order-select answers on the order page.
    form = page.get_by_test_id("order-form")
    form.get_by_label("Dose (mg daily)").fill("50")
    form.get_by_label("Start").fill(date.today().isoformat())
    form.get_by_label("Supply (days)").fill("7")
    form.get_by_test_id("draft-order").click()
    order = page.get_by_test_id("order")
    expect(order).to_have_attribute("data-state", "draft")
    expect(
        order.locator('[data-testid="cds-card"][data-service="clozapine-anc-order-select"]')
    ).to_have_attribute("data-indicator", "critical")

    # Sign: order-sign's critical card holds the order until it is accepted or overridden.
    order.get_by_test_id("sign").click()
    sign_card = order.locator('[data-testid="cds-card"][data-service="clozapine-anc-order-sign"]')
    expect(sign_card).to_have_attribute("data-indicator", "critical")
    expect(order.get_by_test_id("complete")).to_be_disabled()
    save_screenshot(page, "cds-chart-order-sign")
    before = len(engine_search(stack, "ServiceRequest"))
    sign_card.get_by_test_id("cds-suggestion").filter(has_text="CBC with differential").click()
    expect(sign_card).to_have_attribute("data-outcome", "accepted")
    placed = engine_search(stack, "ServiceRequest")
    assert len(placed) == before + 1
    assert any(r["code"]["coding"][0]["code"] == CBC_LOINC for r in placed)
    order.get_by_test_id("complete").click()
    expect(order).to_have_attribute("data-state", "signed")
    reference = order.get_by_test_id("signed-as").get_attribute("data-reference") or ""
    signed = [r for r in engine_search(stack, "MedicationRequest") if r["id"] in reference]
    assert signed and signed[0]["status"] == "active"

    # Back in the chart: override the patient-view card with a reason.
    page.goto(stack.chart_url(PATIENT))
    expect(app_frame.get_by_test_id("overall")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    card = page.locator('[data-testid="cds-card"][data-service="clozapine-anc-patient-view"]')
    override = card.first.get_by_test_id("cds-override")
    reason = override.locator("select[name=reason] option").nth(1).get_attribute("value")
    assert reason
    override.locator("select[name=reason]").select_option(reason)
    override.get_by_label("Comment").fill("ANC drawn this morning")
    overridden_uuid = card.first.get_attribute("data-uuid")
    override.get_by_role("button", name="Override").click()
    done = page.locator(f'[data-testid="cds-card"][data-uuid="{overridden_uuid}"]')
    expect(done).to_have_attribute("data-outcome", "overridden")
    assert view_uuid  # the first chart open's card was shown too

    # The audit page, as the registry administrator the sandbox signs in.
    expect(app_frame.get_by_test_id("overall")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    frame = page.locator("iframe.app").element_handle().content_frame()
    assert frame is not None and "/chart?h=" in frame.url, frame.url if frame else None
    handle = frame.url.split("h=", 1)[1].split("&", 1)[0]
    frame.goto(f"{stack.app.origin}/admin/audit?h={handle}")
    audit = page.frame_locator("iframe.app")
    expect(audit.locator('[data-action="cds.feedback.overridden"]').first).to_be_visible()
    expect(audit.locator("body")).to_contain_text(reason)
    expect(audit.locator("body")).to_contain_text("ANC drawn this morning")
    expect(audit.locator('[data-action="cds.feedback.accepted"]').first).to_be_visible()
    save_screenshot(page, "cds-chart-audit")
    assert opened.log.off_loopback() == []
