"""Launch sessions in headless Chromium: the state cookie of a cross-site launch, and sign-out.

The app runs in the sandbox chart's cross-site iframe. With cookies allowed, /launch stores the
`SameSite=None; Secure; HttpOnly` state cookie and the callback sends it back; with third-party
cookies blocked the sign-in still works. The page's Sign out button ends the session in both,
and the handle then opens an "open the app again" page with no patient data.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Frame, expect

from tests.e2e.browser import OpenPage, save_screenshot
from tests.e2e.stack import Stack
from tests.e2e.test_chart_launch import LOAD_TIMEOUT_MS, launch_in_chart

pytestmark = pytest.mark.e2e

PATIENT = "sbx-weekly-current"
STATE_COOKIE = "smartapp_state"


def state_cookies(opened: OpenPage, stack: Stack) -> list[dict[str, Any]]:
    return [dict(c) for c in opened.context.cookies(stack.app.origin) if c["name"] == STATE_COOKIE]


def sign_out_shows_nothing(opened: OpenPage, frame: Frame) -> None:
    """Sign out in the frame, then open the same chart URL again: no patient data."""
    chart_url = frame.url
    frame.get_by_test_id("signout").click()
    expect(frame.get_by_test_id("error-title")).to_have_text(
        "You have signed out", timeout=LOAD_TIMEOUT_MS
    )
    save_screenshot(opened.page, "signed-out")
    frame.goto(chart_url)
    expect(frame.get_by_test_id("error-title")).to_have_text("Open the app again from the chart")
    expect(frame.get_by_test_id("overall")).to_have_count(0)
    expect(frame.get_by_test_id("anc")).to_have_count(0)


def test_state_cookie_is_kept_and_sent_back_and_sign_out_ends_the_session(
    stack, open_browser
) -> None:
    opened = open_browser()
    frame = launch_in_chart(opened, stack, PATIENT)
    (cookie,) = state_cookies(opened, stack)
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "None"
    (callback,) = opened.log.urls(stack.app.origin, "/callback?")
    sent = callback.all_headers().get("cookie") or ""
    assert f"{STATE_COOKIE}={cookie['value']}" in sent
    sign_out_shows_nothing(opened, frame)


def test_sign_in_and_sign_out_work_with_third_party_cookies_blocked(stack, open_browser) -> None:
    opened = open_browser(block_third_party_cookies=True)
    frame = launch_in_chart(opened, stack, PATIENT)
    assert state_cookies(opened, stack) == []  # refused by the browser: the state alone decided
    sign_out_shows_nothing(opened, frame)
