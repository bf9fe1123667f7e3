"""The patient page's explanations in English and Spanish: what the test counts, who decides what
a result means, and the prescribing information section the "when to call" list comes from."""

from __future__ import annotations

import re

import pytest

from tests.app.patient.pages import fake_ehr, page_text, patient_handle, scored_elements

WORDING = {
    "en": {
        "neutrophils": (
            "The test counts your neutrophils. These are white blood cells. "
            "They help your body fight germs."
        ),
        "care_team_decides": "Your care team looks at your result and decides what it means for you.",
        "source": (
            "Source: clozapine prescribing information, section 17, "
            "Patient Counseling Information (June 2025)."
        ),
        "section": "section 17",
    },
    "es": {
        "neutrophils": (
            "El análisis cuenta sus neutrófilos. Son glóbulos blancos. "
            "Ayudan a su cuerpo a combatir los microbios."
        ),
        "care_team_decides": (
            "Su equipo de atención revisa su resultado y decide qué significa para usted."
        ),
        "source": (
            "Fuente: información de prescripción de la clozapina, sección 17, "
            "«Patient Counseling Information» (consejos para el paciente, junio de 2025)."
        ),
        "section": "sección 17",
    },
}


def _page(app, client, lang: str) -> str:
    with fake_ehr():
        response = client.get("/patient", query_string={"h": patient_handle(app), "lang": lang})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    return html


@pytest.mark.parametrize("lang", sorted(WORDING))
def test_patient_wording_explains_neutrophils_and_that_the_care_team_decides(
    app, client, lang
) -> None:
    words = WORDING[lang]
    explained = [text for name, text in scored_elements(_page(app, client, lang))]
    [explanation] = [text for text in explained if words["neutrophils"] in text]
    assert explanation == f"{words['neutrophils']} {words['care_team_decides']}"


@pytest.mark.parametrize("lang", sorted(WORDING))
def test_patient_wording_call_source_names_the_section_it_cites(app, client, lang) -> None:
    words = WORDING[lang]
    html = _page(app, client, lang)
    found = re.search(r'<p class="source" data-testid="call-source">(.*?)</p>', html, re.S)
    assert found, "no call-source line"
    source = page_text(found.group(0))
    assert source == words["source"]
    assert words["section"] in source and "Patient Counseling Information" in source
    call_section = html.split('data-testid="call-now"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="call-source"' in call_section  # under the list it is the source of
