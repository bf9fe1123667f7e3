"""The chart's banner shows the patient's current MRN, never a retired one, in the organisation's zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.app.fake_ehr import ISSUER_TOML, FakeEhr, launch, served
from tests.app_helpers import app_settings

# 22:00 on 25 November in Chicago (the settings file's zone) is 04:00 on the 26th in UTC.
EVENING = datetime(2026, 11, 25, 22, 0, tzinfo=ZoneInfo("America/Chicago"))
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MR = {"coding": [{"system": V2, "code": "MR"}], "text": "Medical record number"}


@pytest.fixture(autouse=True)
def _evening() -> Iterator[None]:
    with time_machine.travel(EVENING, tick=False):
        yield


@pytest.fixture
def app_config(tmp_path):
    return app_settings(tmp_path, ISSUER_TOML)


def _banner(client, identifiers: list[dict[str, Any]]) -> str:
    fake = FakeEhr(anc_on="2026-11-20", identifiers=identifiers)
    with served(fake):
        handle = launch(client)
        page = client.get("/chart", query_string={"h": handle})
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    found = re.search(r'<header class="banner".*?</header>', html, re.S)
    assert found, html[:500]
    return found.group(0)


def test_banner_shows_the_current_mrn_not_the_retired_ones(client) -> None:
    """Whatever order the EHR writes them in (the old code showed the last MR written)."""
    banner = _banner(
        client,
        [
            # Started at 20:00 in Chicago on the 25th (the 26th in UTC): in force today there.
            {
                "use": "official",
                "type": MR,
                "value": "CURRENT",
                "period": {"start": "2026-11-26T02:00:00Z"},
            },
            {"use": "old", "type": MR, "value": "RETIRED-OLD"},
            {"use": "official", "type": MR, "value": "ENDED", "period": {"end": "2026-11-01"}},
            {"use": "usual", "type": MR, "value": "SECOND"},
        ],
    )
    assert re.search(r'data-testid="record-number" data-mrn="true">MRN CURRENT<', banner), banner
    for other in ("RETIRED-OLD", "ENDED", "SECOND"):
        assert other not in banner


def test_banner_without_a_current_mrn_labels_the_identifier_it_shows(client) -> None:
    banner = _banner(
        client,
        [
            {"use": "old", "type": MR, "value": "RETIRED-OLD"},
            {"type": {"text": "Clinic number"}, "value": "CL-<7>"},
        ],
    )
    assert 'data-mrn="false">Clinic number CL-&lt;7&gt;<' in banner, banner
    assert "MRN" not in banner and "RETIRED-OLD" not in banner


def test_banner_with_no_identifier_in_force_shows_none(client) -> None:
    banner = _banner(client, [{"use": "old", "type": MR, "value": "RETIRED-OLD"}])
    assert "record-number" not in banner and "RETIRED-OLD" not in banner
