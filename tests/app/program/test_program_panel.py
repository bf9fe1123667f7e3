"""The chart's program panel, rendered from a real evaluation: findings, deadlines, standing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from flask import render_template

from clozapine import AncResult, ClozapineOrder, Evaluation, PatientFacts, Registry, evaluate
from smartapp.registry.access import requester
from smartapp.registry.program_panel import build_panel
from tests.app_helpers import (
    ISS,
    PATIENT,
    PRESCRIBER,
    TODAY,
    csrf_for,
    hidden_inputs,
    make_app,
    open_session,
    zone_only_config,
)

PHARMACY = "Organization/ph-1"


def _evaluation(app, as_of: date) -> tuple[Evaluation, Registry]:
    """The patient on clozapine for 200 days with a fresh ANC, evaluated as the chart does."""
    services = app.extensions["smartapp"]
    order = ClozapineOrder(
        as_of - timedelta(days=200), None, prescriber=PRESCRIBER, pharmacy=PHARMACY
    )
    drawn = as_of - timedelta(days=2)
    anc = AncResult(2100, drawn, datetime(drawn.year, drawn.month, drawn.day, 9, tzinfo=UTC))
    facts = PatientFacts(PATIENT, False, (order,), (anc,))
    registry = services.registry.registry_for_facts(ISS, facts, also_prescribers=(PRESCRIBER,))
    return evaluate(facts, as_of, services.policy_on(as_of), registry), registry


def _panel(app, handle: str, as_of: date = TODAY) -> str:
    evaluation, registry = _evaluation(app, as_of)
    with app.test_request_context("/chart", query_string={"h": handle}):
        services = app.extensions["smartapp"]
        panel = build_panel(services, requester(services), as_of, registry, evaluation)
        if panel is None:
            return ""
        return render_template(
            "partials/program.html", program=panel, handle=handle, csrf=csrf_for(app, handle)
        )


def _codes(html: str) -> list[str]:
    return re.findall(r'class="finding [^"]*" data-code="([^"]+)"', html)


def test_program_panel_unenrolled_patient_shows_findings_and_forms(app) -> None:
    handle = open_session(app)
    html = _panel(app, handle)
    assert _codes(html) == [
        "patient-not-enrolled",
        "pharmacy-not-certified",
        "prescriber-not-certified",
    ]
    assert "Sandbox Health clozapine program" in html
    assert 'data-testid="deadline"' not in html  # the organisation's program names no date
    assert "not enrolled" in html and f"none on record for {PRESCRIBER}" in html
    assert hidden_inputs(html) == {"h": handle, "csrf_token": csrf_for(app, handle)}
    assert 'action="/program/enrollment"' in html and 'action="/program/status-form"' in html
    assert "<script" not in html


def test_program_panel_current_records_show_renewal_deadlines(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(
        ISS, PATIENT, date(2026, 3, 1), actor="t", prescriber_reference=PRESCRIBER
    )
    store.upsert_prescriber(ISS, PRESCRIBER, date(2025, 12, 1), actor="t")
    store.upsert_pharmacy(ISS, PHARMACY, date(2025, 12, 1), actor="t")
    html = _panel(app, open_session(app))
    assert _codes(html) == []
    assert 'data-testid="program-clear"' in html
    assert "enrolled 2026-03-01 (active)" in html and "renew by 2027-02-28" in html
    assert "certified 2025-12-01" in html and "renew by 2027-11-30" in html


def test_program_panel_expired_enrollment_and_certification_name_their_dates(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2025, 10, 1), actor="t")
    store.upsert_prescriber(
        ISS, PRESCRIBER, date(2024, 1, 1), actor="t", expires_on=date(2026, 6, 30)
    )
    store.upsert_pharmacy(ISS, PHARMACY, date(2026, 1, 1), actor="t")
    html = _panel(app, open_session(app))
    assert _codes(html) == ["certification-expired", "enrollment-expired"]
    deadlines = re.findall(r'data-testid="deadline">([^<]+)<', html)
    assert deadlines == [
        "your certification expired on 2026-06-30: renew it",
        "expired on 2026-09-30: re-enroll the patient",
    ]


def test_program_panel_under_the_2021_rems_names_the_transition_and_psf_dates(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2021, 9, 1), actor="t")
    store.record_status_form(ISS, PATIENT, date(2021, 10, 1), actor="t")
    html = _panel(app, open_session(app), as_of=date(2021, 12, 1))
    codes = _codes(html)
    assert "psf-overdue" in codes and "prescriber-not-certified" in codes
    assert "was due by 2021-11-07" in html  # the later of form and enrollment + 37 days
    assert "required by 2021-12-22" in html  # the modified REMS's transition deadline


def test_program_panel_is_absent_without_a_program(tmp_path) -> None:
    app = make_app(tmp_path, ORG_CONFIG=str(zone_only_config(tmp_path)))
    try:
        assert _panel(app, open_session(app)).strip() == ""
    finally:
        app.extensions["smartapp"].close()


def test_program_panel_links_the_admin_page_only_for_admins(app) -> None:
    admin_handle = open_session(app, "Practitioner/admin-2")
    assert f"/admin/registry?h={admin_handle}" in _panel(app, admin_handle)
    assert "/admin/registry" not in _panel(app, open_session(app))


def _panel_with_messages(app, handle: str, message: str, as_of: date = TODAY) -> str:
    """The panel built from the same evaluation with every finding's message replaced."""
    evaluation, registry = _evaluation(app, as_of)
    reworded = replace(
        evaluation, findings=tuple(replace(f, message=message) for f in evaluation.findings)
    )
    with app.test_request_context("/chart", query_string={"h": handle}):
        services = app.extensions["smartapp"]
        panel = build_panel(services, requester(services), as_of, registry, reworded)
        assert panel is not None
        return render_template(
            "partials/program.html", program=panel, handle=handle, csrf=csrf_for(app, handle)
        )


def _deadlines(html: str) -> list[str]:
    return re.findall(r'data-testid="deadline">([^<]+)<', html)


def test_program_panel_reads_the_standing_not_the_engines_messages(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2025, 10, 1), actor="t")
    store.upsert_prescriber(
        ISS, PRESCRIBER, date(2024, 1, 1), actor="t", expires_on=date(2026, 6, 30)
    )
    store.upsert_pharmacy(ISS, PHARMACY, date(2026, 1, 1), actor="t")
    handle = open_session(app)
    expected = [
        "your certification expired on 2026-06-30: renew it",
        "expired on 2026-09-30: re-enroll the patient",
    ]
    assert _deadlines(_panel(app, handle)) == expected
    for message in ("", "Reworded.", f"The certification of prescriber {PRESCRIBER} is fine."):
        html = _panel_with_messages(app, handle, message)
        assert _codes(html) == ["certification-expired", "enrollment-expired"]
        assert _deadlines(html) == expected


def test_program_panel_names_the_prescribers_expiry_for_another_user(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2026, 3, 1), actor="t")
    store.upsert_prescriber(
        ISS, PRESCRIBER, date(2024, 1, 1), actor="t", expires_on=date(2026, 6, 30)
    )
    store.upsert_pharmacy(ISS, PHARMACY, date(2026, 1, 1), actor="t")
    html = _panel(app, open_session(app, "Practitioner/dr-b"))
    assert _deadlines(html) == [
        f"the certification of prescriber {PRESCRIBER} expired on 2026-06-30: renew it"
    ]
    assert "none on record for Practitioner/dr-b" in html  # the user's own certification


def _lapse(html: str) -> tuple[str, str, str]:
    found = re.search(
        r'data-testid="enrollment-lapse" data-since="([^"]+)"\s+data-reason="([^"]+)">'
        r"[^<]*</strong>:\s*([^<]+)</dd>",
        html,
    )
    assert found, html
    return found.group(1), found.group(2), " ".join(found.group(3).split())


def test_program_panel_says_when_and_why_a_discontinued_patient_is_no_longer_enrolled(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2026, 3, 1), actor="t")
    store.record_enrollment(ISS, PATIENT, date(2026, 10, 26), actor="t", status="discontinued")
    html = _panel(app, open_session(app))
    assert "patient-not-enrolled" in _codes(html)
    assert _lapse(html) == (
        "2026-10-26",
        "discontinued",
        "disenrolled: the enrollment was discontinued on 2026-10-26; this latest record"
        " supersedes the active enrollment of 2026-03-01",
    )
    assert 'data-enrolled="false"' in html
    assert '<details class="program-forms" open>' in html  # the form to re-enroll is open


def test_program_panel_says_an_expired_enrollment_ended_the_day_after_it_was_valid(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2025, 10, 1), actor="t")
    html = _panel(app, open_session(app))
    assert _lapse(html) == (
        "2026-10-01",
        "expired",
        "the enrollment of 2025-10-01 expired on 2026-09-30; re-enroll the patient",
    )


def test_program_panel_latest_enrollment_decides_over_an_older_discontinued_one(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2026, 2, 1), actor="t", status="discontinued")
    store.record_enrollment(ISS, PATIENT, date(2026, 6, 1), actor="t", status="interrupted")
    html = _panel(app, open_session(app))
    assert "patient-not-enrolled" not in _codes(html)
    assert 'data-testid="enrollment-lapse"' not in html
    assert "enrolled 2026-06-01 (interrupted)" in html and 'data-enrolled="true"' in html


def test_program_panel_under_the_2021_rems_old_enrollments_no_longer_count(app) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2019, 3, 1), actor="t")
    html = _panel(app, open_session(app), as_of=date(2021, 12, 1))
    assert "patient-not-enrolled" in _codes(html)
    since, reason, words = _lapse(html)
    assert (since, reason) == ("2021-08-16", "before-program-start")
    assert words.startswith("enrollments dated before 2021-08-16 do not count under the")


def test_program_page_marks_the_enrollment_that_decides(app, client) -> None:
    store = app.extensions["smartapp"].registry
    store.record_enrollment(ISS, PATIENT, date(2026, 3, 1), actor="t")
    store.record_enrollment(ISS, PATIENT, date(2026, 10, 26), actor="t", status="discontinued")
    handle = open_session(app)
    html = client.get("/program", query_string={"h": handle}).get_data(as_text=True)
    decides = re.search(r'<tr data-testid="deciding-enrollment"><td>([^<]+)</td>', html)
    assert decides and decides.group(1) == "2026-10-26"
    assert "superseded" in html
    assert _lapse(html)[:2] == ("2026-10-26", "discontinued")
