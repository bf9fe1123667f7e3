"""The checklist follows the policy in force: the label's (the REMS ended) or the organisation's
own program (enrolled, not enrolled)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.app.fake_ehr import ISS, PATIENT
from tests.app.patient.pages import fake_ehr, page_text, patient_handle
from tests.app_helpers import ORG_CONFIG, app_settings

ALWAYS = (
    "Ask if you will have enough of your medicine for the next few months.",
    "Know which pharmacy fills your medicine.",
    "If you go into the hospital, tell the team that you take clozapine.",
    "Ask that a pharmacy outside the hospital can fill your medicine when you go home.",
    "Ask if you can have your blood test at home or with a finger prick.",
    "Make a plan with your family for what to do if a test is late",
)


def _checklist(app, client, **ehr) -> str:
    with fake_ehr(**ehr):
        html = client.get("/patient", query_string={"h": patient_handle(app)}).get_data(
            as_text=True
        )
    assert 'data-testid="checklist"' in html
    return page_text(html.split('data-testid="checklist"', 1)[1].split("</section>", 1)[0])


def test_checklist_under_the_label_says_the_rems_ended(app, client) -> None:
    text = _checklist(app, client)
    assert all(item in text for item in ALWAYS)
    assert "The US clozapine program (called REMS) ended in 2025." in text
    assert "signed up" not in text


def test_checklist_under_the_2021_rems_asks_who_is_enrolled(app, client) -> None:
    in_2022 = datetime(2022, 3, 1, 18, 0, tzinfo=UTC)
    text = _checklist(app, client, now=in_2022, authored_on="2021-09-01", anc_on="2022-02-25")
    assert all(item in text for item in ALWAYS)
    assert "Ask if you, your prescriber and your pharmacy are signed up with the" in text
    assert "ended in 2025" not in text


class TestOrganisationProgram:
    """With the sandbox organisation's own program in the settings file."""

    @pytest.fixture
    def app_config(self, tmp_path):
        return app_settings(tmp_path, ORG_CONFIG=str(ORG_CONFIG))

    def test_not_enrolled_patient_is_told_the_care_team_will_enrol(self, app, client) -> None:
        text = _checklist(app, client)
        assert all(item in text for item in ALWAYS)
        assert (
            "Your clinic has its own clozapine program: Sandbox Health clozapine program." in text
        )
        assert "We could not find that you are signed up." in text
        assert "REMS" not in text

    def test_enrolled_patient_is_told_so(self, app, client) -> None:
        registry = app.extensions["smartapp"].registry
        registry.record_enrollment(ISS, f"Patient/{PATIENT}", date(2026, 6, 1), actor="test")
        text = _checklist(app, client)
        assert "Our records show that you are signed up." in text
