"""The patient view in English and Spanish: chosen by the browser or the switch, nothing left
in English on the Spanish page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from tests.app.fake_ehr import PATIENT
from tests.app.patient.pages import (
    CAREGIVER,
    LATE_ANC_ON,
    fake_ehr,
    page_text,
    patient_handle,
    text_nodes,
)
from tests.conftest import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "smartapp" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
# Each state shows different sentences: together they show every one the page has.
STATES: dict[str, dict[str, Any]] = {
    "current": {},
    "late": {"anc_on": LATE_ANC_ON},
    "unreadable": {"broken": {"Observation": "error"}},
    "ben-unknown": {"broken": {"Condition": "error"}},
}


def _page(app, client, *, user: str = f"Patient/{PATIENT}", headers=None, query=None, **ehr):
    with fake_ehr(**ehr):
        handle = patient_handle(app, user=user)
        response = client.get(
            "/patient", query_string={"h": handle, **(query or {})}, headers=headers
        )
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("user", [f"Patient/{PATIENT}", f"RelatedPerson/{CAREGIVER}"])
def test_spanish_page_leaves_no_english_sentence(app, client, state, user) -> None:
    english = _page(app, client, user=user, headers={"Accept-Language": "en-US"}, **STATES[state])
    spanish = _page(
        app, client, user=user, headers={"Accept-Language": "es-MX,es;q=0.9"}, **STATES[state]
    )
    assert '<html lang="es">' in spanish and '<html lang="en">' in english
    spanish_text = page_text(spanish)
    phrases = [t for t in text_nodes(english) if len(t.split()) >= 2 and t not in ("Pat Example",)]
    assert phrases, "the English page shows no text"
    left = [phrase for phrase in phrases if phrase in spanish_text]
    assert not left, f"English left on the Spanish page: {left}"


def test_spanish_page_gives_the_date_in_spanish(app, client) -> None:
    text = page_text(_page(app, client, headers={"Accept-Language": "es"}))
    assert "lunes 7 de diciembre" in text
    assert "No encontramos" not in text  # the record is up to date: no warning in either language


def test_language_switch_wins_over_the_browser(app, client) -> None:
    spanish = _page(app, client, headers={"Accept-Language": "en"}, query={"lang": "es"})
    english = _page(app, client, headers={"Accept-Language": "es"}, query={"lang": "en"})
    assert '<html lang="es">' in spanish and "Su próximo análisis de sangre" in spanish
    assert '<html lang="en">' in english and "Your next blood test" in english
    assert 'href="/patient?h=' in english and "lang=es" in english  # the switch keeps the session


def test_unknown_language_falls_back_to_english(app, client) -> None:
    html = _page(app, client, headers={"Accept-Language": "fr-FR"}, query={"lang": "xx"})
    assert '<html lang="en">' in html


def test_spanish_catalog_translates_every_message() -> None:
    with Path(CATALOG).open("rb") as file:
        catalog = read_po(file)
    messages = [m for m in catalog if m.id]
    assert messages
    assert not [m.id for m in messages if not m.string or m.fuzzy]


def test_spanish_catalog_holds_every_patient_facing_message(tmp_path) -> None:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(template),
            "--no-location",
            "--omit-header",
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with template.open("rb") as file:
        extracted = {m.id for m in read_po(file) if m.id}
    with Path(CATALOG).open("rb") as file:
        translated = {m.id for m in read_po(file) if m.id}
    assert extracted, "nothing extracted: babel.cfg names no patient-facing file"
    assert extracted - translated == set(), "untranslated"
    assert translated - extracted == set(), "no longer used"
