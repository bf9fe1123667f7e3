"""The patient view opened from the sandbox portal in headless Chromium: both languages, as the
patient and as a caregiver, accessible (axe-core, 320 px, keyboard alone), screenshots kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import Frame, expect

from sandbox.ehr.chart import IFRAME_SANDBOX
from tests.e2e.accessibility import axe_violations, blocking
from tests.e2e.browser import OpenPage, save_screenshot
from tests.e2e.stack import Stack
from tests.e2e.test_chart_launch import LOAD_TIMEOUT_MS, app_errors, frames_text, launch_in_chart

pytestmark = pytest.mark.e2e

PATIENT = "sbx-weekly-current"
NO_RESULTS = "sbx-no-anc"
SMALLEST_PX = 320


def open_in_portal(opened: OpenPage, stack: Stack, patient: str, viewer: str) -> Frame:
    """The portal page of `patient` signed in as `viewer`; the app's frame once it shows."""
    page = opened.page
    page.goto(stack.portal_url(patient, viewer))
    expect(page.locator("iframe.app")).to_have_attribute("sandbox", IFRAME_SANDBOX)
    try:
        expect(page.frame_locator("iframe.app").get_by_test_id("call-now")).to_be_visible(
            timeout=LOAD_TIMEOUT_MS
        )
    except AssertionError as error:
        raise AssertionError(f"the patient view did not show:\n{frames_text(opened)}") from error
    frame = page.locator("iframe.app").element_handle().content_frame()
    assert frame is not None and frame.url.startswith(f"{stack.app.origin}/patient?h="), frame
    return frame


def switch_to_spanish(frame: Frame) -> None:
    frame.get_by_test_id("lang-es").click()
    frame.wait_for_load_state()
    expect(frame.locator("html")).to_have_attribute("lang", "es")


@pytest.mark.parametrize("viewer", ["patient", "caregiver"])
def test_portal_patient_view_in_english_and_spanish(stack, open_browser, viewer) -> None:
    opened = open_browser()
    frame = open_in_portal(opened, stack, PATIENT, viewer)
    expect(frame.locator("html")).to_have_attribute("lang", "en")
    expect(frame.get_by_test_id("next-test")).to_contain_text("December")
    expect(frame.get_by_test_id("whose-record")).to_have_attribute("data-viewer", viewer)
    save_screenshot(opened.page, f"patient-view-{viewer}-en")
    switch_to_spanish(frame)
    expect(frame.get_by_test_id("call-now")).to_contain_text("Llame enseguida")
    expect(frame.get_by_test_id("next-test")).to_contain_text("diciembre")
    save_screenshot(opened.page, f"patient-view-{viewer}-es")
    assert opened.log.off_loopback() == []
    assert app_errors(opened, stack) == []


def test_portal_patient_view_without_results_says_call(stack, open_browser) -> None:
    opened = open_browser()
    frame = open_in_portal(opened, stack, NO_RESULTS, "patient")
    expect(frame.get_by_test_id("no-recent-result")).to_contain_text(
        "We could not find a recent blood test result: call your care team."
    )
    expect(frame.get_by_test_id("next-test")).to_have_count(0)
    save_screenshot(opened.page, "patient-view-no-results-en")


@pytest.mark.parametrize("language", ["en", "es"])
def test_portal_patient_view_has_no_serious_wcag_violation(stack, open_browser, language) -> None:
    opened = open_browser()
    frame = open_in_portal(opened, stack, PATIENT, "caregiver")
    if language == "es":
        switch_to_spanish(frame)
    violations = axe_violations(frame, stack.app.origin)
    assert blocking(violations) == [], violations


def test_chart_page_has_no_serious_wcag_violation(stack, open_browser) -> None:
    opened = open_browser()
    frame = launch_in_chart(opened, stack, PATIENT)
    violations = axe_violations(frame, stack.app.origin)
    assert blocking(violations) == [], violations


def test_portal_patient_view_fits_320_px(stack, open_browser) -> None:
    opened = open_browser(width=SMALLEST_PX)
    frame = open_in_portal(opened, stack, PATIENT, "patient")
    widths = frame.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    save_screenshot(opened.page, "patient-view-320px")
    assert widths[0] <= widths[1], widths


def test_portal_patient_view_works_with_the_keyboard_alone(stack, open_browser) -> None:
    opened = open_browser()
    frame = open_in_portal(opened, stack, PATIENT, "patient")
    frame.locator("body").focus()
    outlines: dict[str, str] = {}
    for _ in range(12):
        opened.page.keyboard.press("Tab")
        name, outline = frame.evaluate(
            "() => { const e = document.activeElement;"
            " return [e ? (e.dataset.testid || e.id || e.tagName) : '',"
            " e ? getComputedStyle(e).outlineStyle : 'none']; }"
        )
        outlines.setdefault(name, outline)
    reached = {"lang-es", "calendar-link", "print-card"}
    assert reached <= set(outlines), outlines
    assert all(outlines[name] != "none" for name in reached), outlines  # focus is visible
    frame.get_by_test_id("lang-es").focus()
    opened.page.keyboard.press("Enter")
    frame.wait_for_load_state()
    expect(frame.locator("html")).to_have_attribute("lang", "es")


def test_accessibility_check_finds_a_nameless_button(stack, open_browser) -> None:
    opened = open_browser()
    frame = open_in_portal(opened, stack, PATIENT, "patient")
    frame.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    found = blocking(axe_violations(frame, stack.app.origin))
    assert [v["id"] for v in found] == ["button-name"], found


def test_portal_patient_view_prints_the_card_alone(stack, open_browser) -> None:
    opened = open_browser()
    frame = open_in_portal(opened, stack, PATIENT, "patient")
    opened.page.emulate_media(media="print")
    shown = frame.evaluate(
        """() => [...document.querySelectorAll('main > section, main > h1, header.top')]
             .filter((e) => getComputedStyle(e).display !== 'none')
             .map((e) => e.dataset.testid || e.tagName)"""
    )
    assert shown == ["print-card"], shown
    expect(frame.get_by_test_id("print-card")).to_contain_text("December")
    expect(frame.locator("#print-card")).to_be_hidden()
    opened.page.emulate_media(media="screen")
    expect(frame.get_by_test_id("call-now")).to_be_visible()


def test_chart_page_fits_320_px_and_works_with_the_keyboard_alone(stack, open_browser) -> None:
    opened = open_browser(width=SMALLEST_PX)
    frame = launch_in_chart(opened, stack, "sbx-weekly-overdue")
    widths = frame.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    save_screenshot(opened.page, "chart-320px")
    assert widths[0] <= widths[1], widths
    frame.locator("body").focus()
    reached: list[str] = []
    for _ in range(40):
        opened.page.keyboard.press("Tab")
        reached.append(
            frame.evaluate(
                "() => { const e = document.activeElement;"
                " return e ? (e.dataset.testid || e.getAttribute('name') || e.tagName) : ''; }"
            )
        )
    assert "rules-link" in reached, reached
    assert any(item in ("BUTTON", "finding") for item in reached), reached
