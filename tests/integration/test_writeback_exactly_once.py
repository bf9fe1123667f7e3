"""Exactly once where the EHR has no conditional create, and "in the chart" as the EHR says."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smartapp.commands.db import upgrade
from tests.integration.app_harness import SCOPES
from tests.integration.writeback_harness import (  # noqa: F401 - fixtures, by name
    app_for_fixture,
    database_url_fixture,
    ehr_fixture,
    identifier_search,
    launch,
    load_chart,
    outcomes,
    post_writeback,
    today,
    writeback_app,
)

pytestmark = pytest.mark.integration


def overdue_value(patient: str) -> str:
    return f"{patient}/monitoring-overdue/{(today() - timedelta(days=3)).isoformat()}"


def rows(html: str) -> dict[str, str]:
    import re

    found = re.findall(
        r'data-testid="writeback-row" data-code="([^"]+)" data-status="([^"]+)"', html
    )
    return dict(found)


def test_without_conditional_create_a_second_app_database_writes_no_second_flag(
    app_for, smart, ehr, tmp_path: Path
) -> None:
    client_id = smart.register(SCOPES)
    smart.fault(fault="no_conditional_create", client_id=client_id)
    try:
        patient = ehr.new_patient()
        client, launched = launch(app_for(client_id), smart, patient)
        [first] = outcomes(
            post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
        )
        assert first["outcome"] == "created"

        folder = tmp_path / "second"
        folder.mkdir()
        second_url = f"sqlite:///{folder / 'app.db'}"
        upgrade(second_url)
        second = writeback_app(folder, smart, client_id, second_url)
        try:
            other, relaunched = launch(second, smart, patient)
            page = post_writeback(other, relaunched.handle, "monitoring-overdue")
            [again] = outcomes(page.get_data(as_text=True))
        finally:
            second.extensions["smartapp"].close()
        assert again == {**first, "outcome": "existing"}
        assert len(identifier_search(ehr, "Flag", patient, overdue_value(patient))) == 1
    finally:
        smart.control("DELETE", "faults", params={"client_id": client_id})


def test_a_flag_deleted_in_the_ehr_shows_as_missing_and_is_written_again(
    app_for, smart, ehr
) -> None:
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    [first] = outcomes(
        post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    )
    assert rows(load_chart(client, launched.handle))["monitoring-overdue"] == "written"

    deleted = smart.fhir("DELETE", first["resource"], ehr.token)
    assert deleted.status_code in (200, 204), deleted.text
    page = load_chart(client, launched.handle)
    assert rows(page)["monitoring-overdue"] == "missing"
    assert f"{first['resource']} is no longer in the EHR" in page

    [again] = outcomes(
        post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    )
    assert again["outcome"] == "created" and again["resource"] != first["resource"]
    [flag] = identifier_search(ehr, "Flag", patient, overdue_value(patient))
    assert f"Flag/{flag['id']}" == again["resource"]
    assert rows(load_chart(client, launched.handle))["monitoring-overdue"] == "written"
