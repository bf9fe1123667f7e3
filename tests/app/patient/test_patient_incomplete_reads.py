"""The patient view on a record not read whole (faked EHR): never a next date, never an all clear.

Orders, lab results or the problem list read in part (a malformed searchset, or paging cut
short) make the page say that no recent result was found and to call the care team, and the
calendar file is refused; a Patient read answering another id gives no page of that record.
"""

from __future__ import annotations

import pytest

from tests.app.fake_ehr import MALFORMED, PAGING_CUT
from tests.app.patient.pages import fake_ehr, page_text, patient_handle

NO_RECENT = "We could not find a recent blood test result: call your care team."
NOT_ALL_WELL = "This does not mean that all is well."
FAULTS = (*MALFORMED, *PAGING_CUT)
RESOURCE_TYPES = ("MedicationRequest", "Observation", "Condition")


def _assert_no_next_date_nor_all_clear(html: str) -> None:
    text = page_text(html)
    assert NO_RECENT in text
    assert 'data-next-due="' not in html and 'data-testid="next-test"' not in html
    assert "2026-12-07" not in html and "7 December" not in text
    assert "normal range" not in text and "not late yet" not in text


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_patient_page_record_not_read_whole_gives_no_next_date(
    app, client, resource_type, fault
) -> None:
    with fake_ehr(broken={resource_type: fault}):
        response = client.get("/patient", query_string={"h": patient_handle(app)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    _assert_no_next_date_nor_all_clear(html)
    if resource_type != "Condition":  # the evaluation itself could not be made
        assert NOT_ALL_WELL in page_text(html)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_patient_calendar_file_refused_when_record_not_read_whole(
    app, client, resource_type, fault
) -> None:
    with fake_ehr(broken={resource_type: fault}):
        response = client.get("/patient/next-test.ics", query_string={"h": patient_handle(app)})
    body = response.get_data(as_text=True)
    assert response.status_code == 404, body[:300]
    assert "BEGIN:VCALENDAR" not in body and "DTSTART" not in body and "20261207" not in body


def test_patient_view_read_whole_gives_the_date_the_faults_take_away(app, client) -> None:
    with fake_ehr():
        handle = patient_handle(app)
        html = client.get("/patient", query_string={"h": handle}).get_data(as_text=True)
        calendar = client.get("/patient/next-test.ics", query_string={"h": handle})
    assert 'data-next-due="2026-12-07"' in html and NO_RECENT not in page_text(html)
    assert calendar.status_code == 200 and "DTSTART;VALUE=DATE:20261207" in calendar.text


@pytest.mark.parametrize("path", ["/patient", "/patient/next-test.ics"])
def test_patient_view_patient_read_answering_another_id_shows_nothing_of_it(
    app, client, path
) -> None:
    with fake_ehr(patient_id="pt-2"):
        response = client.get(path, query_string={"h": patient_handle(app)})
    body = response.get_data(as_text=True)
    assert response.status_code != 200 or NO_RECENT in page_text(body), body[:500]
    assert "pt-2" not in body and "Pat Example" not in body
    assert "2026-12-07" not in body and "20261207" not in body and "DTSTART" not in body
