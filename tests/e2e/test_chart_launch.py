"""The app launched from the sandbox chart in its cross-site iframe, in headless Chromium."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, expect

from sandbox.ehr.chart import IFRAME_SANDBOX
from smartapp.registry.program_panel import PROGRAM_FINDINGS
from tests.e2e.browser import OpenPage, save_screenshot
from tests.e2e.stack import Stack

# Without Chromium the `chromium` fixture skips these (and fails them under CI).
pytestmark = pytest.mark.e2e

PATIENT = "sbx-weekly-current"
MORE_PATIENTS = ["sbx-weekly-overdue", "sbx-moderate", "sbx-start-tomorrow", "sbx-no-anc"]
# The app cannot read this patient's prescriber with the scopes it asks for by default
# (launch/issuers.py DEFAULT_SCOPES has no Practitioner or PractitionerRole), so it reports
# "prescriber-not-certified" and an "attention" status where `smartapp evaluate` says "ok".
PRESCRIBER_PATIENT = "sbx-derived-anc"
# Used by the write-back test only: no other test sees Flags written for it.
WRITEBACK_PATIENT = "sbx-monthly-overdue"
COOKIE = "smartapp_session"
LOAD_TIMEOUT_MS = 20_000
NARROW_PX = 360

# What the app shows, read from the stable test hooks of smartapp/templates/chart.html.
PAGE_STATE_JS = """() => {
  const hook = (id) => document.querySelector(`[data-testid="${id}"]`);
  const canvas = document.querySelector('canvas#anc-chart');
  const box = canvas ? canvas.getBoundingClientRect() : {width: 0, height: 0};
  let painted = 0;
  if (canvas && canvas.width && canvas.height) {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let alpha = 3; alpha < pixels.length; alpha += 4) { if (pixels[alpha]) { painted += 1; } }
  }
  return {
    overall: hook('overall')?.dataset.overall ?? null,
    next_due: hook('next-due')?.dataset.nextDue ?? null,
    status: hook('next-due')?.dataset.status ?? null,
    canvas_width: box.width,
    canvas_height: box.height,
    chart_drawn: Boolean(canvas && window.Chart && window.Chart.getChart(canvas)),
    painted_pixels: painted,
    scroll_width: document.documentElement.scrollWidth,
    client_width: document.documentElement.clientWidth,
    body_scroll_width: document.body.scrollWidth,
  };
}"""


def launch_in_chart(opened: OpenPage, stack: Stack, patient: str = PATIENT) -> Frame:
    """Open the patient's chart, let it launch the app in its iframe; the app's frame."""
    page = opened.page
    page.goto(stack.chart_url(patient))
    iframe = page.locator("iframe.app")
    expect(iframe).to_have_attribute("sandbox", IFRAME_SANDBOX)
    try:
        expect(page.frame_locator("iframe.app").get_by_test_id("overall")).to_be_visible(
            timeout=LOAD_TIMEOUT_MS
        )
    except AssertionError as error:
        raise AssertionError(f"the app did not show a status:\n{frames_text(opened)}") from error
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    assert frame.url.startswith(f"{stack.app.origin}/chart?h="), frame.url
    return frame


def frames_text(opened: OpenPage) -> str:
    """Each frame's URL and the start of its text, to say where a launch stopped."""
    lines = []
    for frame in opened.page.frames:
        try:
            text = frame.evaluate("() => document.body ? document.body.innerText : ''")
        except PlaywrightError as error:
            text = f"(unreadable: {error})"
        lines.append(f"{frame.url[:160]}\n    {text[:400]!r}")
    lines.append(f"console errors: {opened.log.console_errors}")
    return "\n".join(lines)


def page_state(frame: Frame) -> dict[str, Any]:
    state: dict[str, Any] = frame.evaluate(PAGE_STATE_JS)
    return state


def assert_matches_cli(state: dict[str, Any], evaluation: dict[str, Any]) -> None:
    """The page's status and next due date are what `smartapp evaluate` says for the patient."""
    assert state["overall"] == evaluation["overall"]
    assert state["next_due"] == (evaluation["monitoring"]["next_due"] or "")
    assert state["status"] == evaluation["monitoring"]["status"]


def app_errors(opened: OpenPage, stack: Stack) -> list[str]:
    """Console errors (CSP violations among them) and uncaught script errors.

    The sandbox EHR serves no favicon; Chromium's 404 for it is the EHR's, not the app's.
    """
    ehr_favicon = f"({stack.sandbox.config.origin}/favicon.ico)"
    console = [e for e in opened.log.console_errors if not e.endswith(ehr_favicon)]
    return console + opened.log.page_errors


def session_cookies(opened: OpenPage, stack: Stack) -> list[dict[str, Any]]:
    return [dict(c) for c in opened.context.cookies(stack.app.origin) if c["name"] == COOKIE]


def sent_cookie(opened: OpenPage, stack: Stack) -> str | None:
    """The Cookie header of the iframe's request for the app's page after the callback."""
    (request,) = opened.log.urls(stack.app.origin, "/chart?h=")
    return request.all_headers().get("cookie")


def test_chart_launch_shows_status_and_next_due_as_smartapp_evaluate(
    stack, evaluations, open_browser
) -> None:
    opened = open_browser()
    frame = launch_in_chart(opened, stack)
    state = page_state(frame)
    save_screenshot(opened.page, "chart-launch")
    assert_matches_cli(state, evaluations[PATIENT])
    expect(frame.get_by_test_id("next-due")).not_to_be_empty()
    expect(opened.page.locator(".banner .name")).not_to_be_empty()
    # The ANC trend is drawn by Chart.js served by the app itself: nothing leaves this machine.
    assert state["chart_drawn"] and state["painted_pixels"] > 0, state
    assert state["canvas_width"] > 0 and state["canvas_height"] > 0, state
    (library,) = opened.log.urls(stack.app.origin, "/static/vendor/chart.umd.min.js")
    assert library.response() is not None and library.response().status == 200
    assert opened.log.off_loopback() == []
    assert app_errors(opened, stack) == []
    # Cookies allowed: the SameSite=None; Secure cookie is stored for the app and sent back.
    (cookie,) = session_cookies(opened, stack)
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "None"
    assert f"{COOKIE}={cookie['value']}" in (sent_cookie(opened, stack) or "").split("; ")


def test_chart_launch_works_with_third_party_cookies_blocked(
    stack, evaluations, open_browser
) -> None:
    opened = open_browser(block_third_party_cookies=True)
    frame = launch_in_chart(opened, stack)
    state = page_state(frame)
    save_screenshot(opened.page, "chart-launch-third-party-cookies-blocked")
    assert_matches_cli(state, evaluations[PATIENT])
    assert state["chart_drawn"] and state["painted_pixels"] > 0, state
    # The app did set its cookie; the browser refused it, and the handle in the URL carried on.
    (callback,) = opened.log.urls(stack.app.origin, "/callback?")
    response = callback.response()
    assert response is not None and COOKIE in (response.header_value("set-cookie") or "")
    assert session_cookies(opened, stack) == []
    assert sent_cookie(opened, stack) is None
    assert app_errors(opened, stack) == []


def test_chart_launch_fits_a_narrow_side_panel(stack, evaluations, open_browser) -> None:
    opened = open_browser(width=NARROW_PX)
    frame = launch_in_chart(opened, stack)
    state = page_state(frame)
    save_screenshot(opened.page, f"chart-launch-{NARROW_PX}px")
    assert_matches_cli(state, evaluations[PATIENT])
    assert state["scroll_width"] <= state["client_width"], state
    assert state["body_scroll_width"] <= state["client_width"], state
    assert 0 < state["canvas_width"] <= state["client_width"], state
    expect(frame.get_by_test_id("overall")).to_be_in_viewport()
    assert app_errors(opened, stack) == []


def test_chart_launch_other_patients_match_smartapp_evaluate(
    stack, evaluations, open_browser
) -> None:
    opened = open_browser()
    shown = {}
    for patient in MORE_PATIENTS:
        state = page_state(launch_in_chart(opened, stack, patient))
        shown[patient] = state
        assert_matches_cli(state, evaluations[patient])
    assert len({s["overall"] for s in shown.values()}) > 1, shown
    assert app_errors(opened, stack) == []


def test_chart_launch_prescriber_findings_match_smartapp_evaluate(
    stack, evaluations, open_browser
) -> None:
    opened = open_browser()
    frame = launch_in_chart(opened, stack, PRESCRIBER_PATIENT)
    evaluation = evaluations[PRESCRIBER_PATIENT]
    codes = frame.evaluate(
        "() => [...document.querySelectorAll('li.finding')].map(f => f.dataset.code)"
    )
    # Each finding appears once: program findings in the program panel, the rest above it.
    assert sorted(codes) == sorted(finding["code"] for finding in evaluation["findings"])
    program = frame.evaluate(
        "() => [...document.querySelectorAll('[data-testid=program] li.finding')]"
        ".map(f => f.dataset.code)"
    )
    assert len(codes) == len(set(codes))
    assert sorted(program) == sorted(c for c in codes if c in PROGRAM_FINDINGS)
    assert_matches_cli(page_state(frame), evaluation)


def flags_in_engine(stack: Stack, patient: str) -> set[str]:
    """The Flag ids the sandbox's FHIR engine holds for the patient (read behind the EHR front)."""
    with requests.Session() as session:
        session.trust_env = False
        answer = session.get(
            f"{stack.sandbox.engine_base}/Flag",
            params={"subject": f"Patient/{patient}", "_count": "200"},
            timeout=10,
        )
    answer.raise_for_status()
    return {entry["resource"]["id"] for entry in answer.json().get("entry", [])}


def outcome_pairs(frame: Frame) -> list[tuple[str, str]]:
    """(outcome, resource) of each line of the write-back result."""
    items = frame.get_by_test_id("writeback-outcome").evaluate_all(
        "items => items.map(i => [i.dataset.outcome, i.dataset.resource])"
    )
    return [(str(kind), str(resource)) for kind, resource in items]


def test_writeback_button_writes_once_then_says_already(stack, open_browser) -> None:
    """Write-back posts the handle in its form, so it works with third-party cookies blocked."""
    opened = open_browser(block_third_party_cookies=True)
    frame = launch_in_chart(opened, stack, WRITEBACK_PATIENT)
    before = flags_in_engine(stack, WRITEBACK_PATIENT)
    outcomes = frame.get_by_test_id("writeback-outcome")

    expect(frame.get_by_test_id("writeback-button")).to_contain_text("to the chart as Flag")
    frame.get_by_test_id("writeback-button").click()
    expect(frame.get_by_test_id("writeback-result")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(outcomes.first).to_have_attribute("data-outcome", "created")
    created = outcome_pairs(frame)
    assert created and all(kind == "created" for kind, _ in created), created
    written = {resource for _, resource in created}
    assert all(re.fullmatch(r"Flag/[A-Za-z0-9.-]+", r) for r in written), written
    for resource in written:
        expect(frame.get_by_test_id("writeback-result")).to_contain_text(resource)
    after_first = flags_in_engine(stack, WRITEBACK_PATIENT)
    assert after_first - before == {r.removeprefix("Flag/") for r in written}
    frame.get_by_test_id("writeback-result").scroll_into_view_if_needed()
    save_screenshot(opened.page, "chart-writeback")

    button = frame.get_by_test_id("writeback-button")
    expect(button).to_contain_text("Already in the chart: Flag/")
    button.click()
    expect(outcomes.first).to_have_attribute("data-outcome", "existing", timeout=LOAD_TIMEOUT_MS)
    again = outcome_pairs(frame)
    assert sorted(again) == sorted(("existing", r) for _, r in created), again
    expect(frame.get_by_test_id("writeback-result")).to_contain_text("already in the chart")
    assert flags_in_engine(stack, WRITEBACK_PATIENT) == after_first
    assert app_errors(opened, stack) == []


# The trend's x-axis and its date labels, read from the drawn Chart.js scale.
AXIS_JS = """() => {
  const chart = window.Chart.getChart(document.querySelector('canvas#anc-chart'));
  const data = JSON.parse(document.getElementById('anc-chart-data').textContent);
  const scale = chart.scales.x;
  const ctx = chart.ctx;
  ctx.font = `11px ${window.Chart.defaults.font.family}`;
  const day = (iso) => Date.parse(iso + 'T00:00:00Z') / 86400000;
  const labels = scale.ticks.map((tick) => ({
    x: scale.getPixelForValue(tick.value),
    width: ctx.measureText(new Date(tick.value * 86400000).toISOString().slice(0, 10)).width,
  }));
  let overlaps = 0;
  for (let i = 1; i < labels.length; i += 1) {
    if (labels[i].x - labels[i - 1].x < (labels[i].width + labels[i - 1].width) / 2) { overlaps += 1; }
  }
  return {
    max: scale.max, min: scale.min, today: day(data.as_of), due: data.due ? day(data.due) : null,
    ticks: labels.length, overlaps,
  };
}"""


@pytest.mark.parametrize("width", [1280, NARROW_PX])
def test_chart_headline_and_trend_say_it_once_and_plainly(stack, open_browser, width) -> None:
    opened = open_browser(width=width)
    frame = launch_in_chart(opened, stack, "sbx-weekly-overdue")
    headline = frame.get_by_test_id("overall").inner_text()
    assert headline.startswith("Draw a CBC with differential today: ANC "), headline
    assert headline.endswith("overdue"), headline
    recommendation = frame.get_by_test_id("recommendation").inner_text()
    assert recommendation == "Recommendation: Continue clozapine", recommendation
    text = frame.evaluate("() => document.body.innerText")
    assert "/uL" not in text and "ben-neutropenia neutropenia" not in text
    axis = frame.evaluate(AXIS_JS)
    assert axis["max"] >= axis["today"] and (axis["due"] is None or axis["max"] >= axis["due"])
    assert axis["ticks"] >= 2 and axis["overlaps"] == 0, axis
    save_screenshot(opened.page, f"chart-headline-{width}px")
    assert app_errors(opened, stack) == []


def test_chart_severe_patient_headline_says_interrupt(stack, open_browser) -> None:
    opened = open_browser()
    frame = launch_in_chart(opened, stack, "sbx-ben-severe")
    headline = frame.get_by_test_id("overall").inner_text()
    assert headline.startswith("Interrupt clozapine: ANC "), headline
    assert headline.endswith("/µL, severe (BEN)"), headline
    save_screenshot(opened.page, "chart-interrupt")
    assert app_errors(opened, stack) == []


LIFECYCLE_PATIENT = "sbx-biweekly-overdue"  # used by this test only


def put_in_engine(stack: Stack, resource: dict[str, Any]) -> None:
    """Store a resource in the sandbox's FHIR engine directly (as the lab system would)."""
    url = f"{stack.sandbox.engine_base}/{resource['resourceType']}/{resource['id']}"
    with requests.Session() as session:
        session.trust_env = False
        answer = session.put(
            url, json=resource, headers={"Content-Type": "application/fhir+json"}, timeout=10
        )
    answer.raise_for_status()


def test_page_posts_its_own_update_and_retires_a_flag_without_cookies(stack, open_browser):
    """After the ANC comes in, the page's own POST (its script, its CSRF token, the handle in
    its form) sets the Flag inactive; the GET itself changed nothing."""
    opened = open_browser(block_third_party_cookies=True)
    frame = launch_in_chart(opened, stack, LIFECYCLE_PATIENT)
    frame.get_by_test_id("writeback-button").click()
    expect(frame.get_by_test_id("writeback-outcome").first).to_have_attribute(
        "data-outcome", "created", timeout=LOAD_TIMEOUT_MS
    )
    overdue = frame.locator('[data-testid="writeback-outcome"][data-code="monitoring-overdue"]')
    flag = str(overdue.get_attribute("data-resource")).removeprefix("Flag/")
    today = datetime.now(ZoneInfo("America/Chicago")).date().isoformat()
    put_in_engine(
        stack,
        {
            "resourceType": "Observation",
            "id": f"{LIFECYCLE_PATIENT}-anc-e2e-today",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
            "subject": {"reference": f"Patient/{LIFECYCLE_PATIENT}"},
            "effectiveDateTime": today,
            "valueQuantity": {"value": 2600, "unit": "/uL", "code": "/uL"},
        },
    )
    frame.goto(frame.url)  # the prescriber reloads the app's page
    retired = frame.locator(
        f'[data-testid="writeback-lifecycle"][data-resource="Flag/{flag}"][data-done="true"]'
    )
    expect(retired).to_contain_text("set inactive", timeout=LOAD_TIMEOUT_MS)
    expect(frame.locator('[data-auto-submit="true"]')).to_have_count(0)
    (posted,) = opened.log.urls(stack.app.origin, "/writeback/sync")
    assert posted.method == "POST" and posted.headers.get("cookie") is None
    with requests.Session() as session:
        session.trust_env = False
        status = session.get(f"{stack.sandbox.engine_base}/Flag/{flag}", timeout=10).json()
    assert status["status"] == "inactive"
    save_screenshot(opened.page, "chart-lifecycle-after-sync")
    assert app_errors(opened, stack) == []


def test_chart_footer_links_the_rules_sheet_which_renders(stack, open_browser) -> None:
    """The footer says the rules await pharmacist verification; its link opens the sheet."""
    opened = open_browser()
    frame = launch_in_chart(opened, stack)
    review = frame.get_by_test_id("policy-review")
    expect(review).to_contain_text("await pharmacist verification")
    expect(review).to_have_attribute("data-review", "awaiting-pharmacist-verification")
    with opened.context.expect_page() as opening:
        frame.get_by_test_id("rules-link").click()
    sheet = opening.value
    sheet.wait_for_load_state()
    assert sheet.url.startswith(f"{stack.app.origin}/rules#policy-us-label-2025"), sheet.url
    expect(sheet.get_by_test_id("rules-sheet")).to_be_visible()
    policy = sheet.locator("#policy-us-label-2025")
    expect(policy.locator('tr[data-rule="ANC-GP-SEVERE"]')).to_contain_text("below 500/uL")
    expect(policy.get_by_test_id("rules-review")).to_contain_text("await pharmacist verification")
    save_screenshot(sheet, "rules-sheet")
    assert app_errors(opened, stack) == []
