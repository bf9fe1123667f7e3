"""The patient view's page on a faked EHR: what it says, to whom, and never an all clear."""

from __future__ import annotations

import pytest

from tests.app.fake_ehr import ISS, PATIENT
from tests.app.patient.pages import (
    CAREGIVER,
    LATE_ANC_ON,
    fake_ehr,
    page_text,
    patient_handle,
)
from tests.app_helpers import PRESCRIBER

NO_RECENT = "We could not find a recent blood test result: call your care team."


def test_patient_page_patient_gives_next_test_with_weekday_and_not_late(app, client) -> None:
    with fake_ehr():
        handle = patient_handle(app)
        response = client.get("/patient", query_string={"h": handle})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert 'data-next-due="2026-12-07"' in html and 'data-late="false"' in html
    text = page_text(html)
    assert "Monday 7 December" in text
    assert "This test is not late yet." in text
    assert "This is the record of Pat Example." in text
    assert "Your count was in the normal range." in text
    assert NO_RECENT not in text
    assert "ANC-" not in html and "rule" not in text.lower()  # no rule ids, no clinician words


def test_patient_page_late_test_says_late_and_no_recent_result(app, client) -> None:
    with fake_ehr(anc_on=LATE_ANC_ON):
        response = client.get("/patient", query_string={"h": patient_handle(app)})
    html = response.get_data(as_text=True)
    assert 'data-late="true"' in html
    text = page_text(html)
    assert "Sunday 15 November" in text
    assert "This test is late." in text
    assert NO_RECENT in text


@pytest.mark.parametrize("broken", ["Observation", "MedicationRequest"])
def test_patient_page_unreadable_record_says_call_your_care_team(app, client, broken) -> None:
    with fake_ehr(broken={broken: "error"}):
        response = client.get("/patient", query_string={"h": patient_handle(app)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    text = page_text(html)
    assert NO_RECENT in text
    assert "This does not mean that all is well." in text
    assert 'data-testid="next-test"' not in html and "normal range" not in text


def test_patient_page_unreadable_result_value_is_never_an_all_clear(app, client) -> None:
    with fake_ehr(anc_on="2026-11-23", broken={"Condition": "error"}):
        response = client.get("/patient", query_string={"h": patient_handle(app)})
    assert NO_RECENT in page_text(response.get_data(as_text=True))


def test_patient_page_caregiver_is_told_whose_record_it_is(app, client) -> None:
    with fake_ehr():
        handle = patient_handle(app, user=f"RelatedPerson/{CAREGIVER}")
        response = client.get("/patient", query_string={"h": handle})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert 'data-viewer="caregiver"' in html
    assert "You are looking at the record of Pat Example, as their caregiver." in page_text(html)


@pytest.mark.parametrize(
    ("user", "linked_to"),
    [
        (f"RelatedPerson/{CAREGIVER}", "pt-other"),  # a caregiver of another patient
        ("Patient/pt-other", PATIENT),  # another patient
        (PRESCRIBER, PATIENT),  # the care team use the chart
        (None, PATIENT),  # nobody named
    ],
)
def test_patient_page_anyone_else_is_refused(app, client, user, linked_to) -> None:
    with fake_ehr(linked_to=linked_to):
        handle = patient_handle(app, user=user)
        response = client.get("/patient", query_string={"h": handle})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Pat Example" not in html and "2026-12-07" not in html


def test_patient_page_caregiver_whose_access_ended_is_refused(app, client) -> None:
    with fake_ehr(caregiver_active=False):
        handle = patient_handle(app, user=f"RelatedPerson/{CAREGIVER}")
        response = client.get("/patient", query_string={"h": handle})
    assert response.status_code == 403
    assert "Pat Example" not in response.get_data(as_text=True)


def test_chart_page_refuses_a_patient_session(app, client) -> None:
    with fake_ehr():
        response = client.get("/chart", query_string={"h": patient_handle(app)})
    assert response.status_code == 403
    assert "Pat Example" not in response.get_data(as_text=True)


def test_patient_page_has_no_form_and_no_writeback(app, client) -> None:
    with fake_ehr():
        response = client.get("/patient", query_string={"h": patient_handle(app)})
    html = response.get_data(as_text=True)
    assert "<form" not in html and "writeback" not in html.lower()
    assert "frame-ancestors https://ehr.example.org" in response.headers["Content-Security-Policy"]


def test_patient_calendar_file_has_the_date_and_no_identifier(app, client) -> None:
    with fake_ehr():
        response = client.get("/patient/next-test.ics", query_string={"h": patient_handle(app)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "DTSTART;VALUE=DATE:20261207" in body
    assert "Pat Example" not in body and PATIENT not in body and ISS not in body


def test_patient_calendar_file_without_a_date_is_not_found(app, client) -> None:
    with fake_ehr(broken={"Observation": "error"}):
        response = client.get("/patient/next-test.ics", query_string={"h": patient_handle(app)})
    assert response.status_code == 404


def test_print_card_names_the_care_team_the_ehr_gives(app, client) -> None:
    team = [{"reference": "Practitioner/dr-a", "display": "Dr <b>Ada</b> Lovelace, Clinic 4"}]
    with fake_ehr(general_practitioner=team):
        html = client.get("/patient", query_string={"h": patient_handle(app)}).get_data(
            as_text=True
        )
    card = html.split('data-testid="print-card"', 1)[1].split("</section>", 1)[0]
    assert "Dr &lt;b&gt;Ada&lt;/b&gt; Lovelace, Clinic 4" in card
    assert "Monday 7 December" in card
    assert "a fever, a sore throat, the flu, or any other sign of an infection." in card


def test_print_card_without_a_care_team_leaves_room_to_write_it(app, client) -> None:
    with fake_ehr():
        html = client.get("/patient", query_string={"h": patient_handle(app)}).get_data(
            as_text=True
        )
    card = html.split('data-testid="print-card"', 1)[1].split("</section>", 1)[0]
    assert "Write their phone number here:" in card
