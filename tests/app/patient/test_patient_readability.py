"""The patient view's English explanatory text reads at grade 6 or below (Flesch-Kincaid, textstat).

Scored: every element the page marks `data-read` (the no-result warning's heading and text, what
the next test's date means, what the last result means, when to call, the checklist), read as
shown in each state of the record; left out: dates (`data-date`), numbers, and the names of the
medicine and its former program (clozapine, REMS), which no plainer word replaces.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import textstat

from tests.app.fake_ehr import PATIENT
from tests.app.patient.pages import (
    CAREGIVER,
    LATE_ANC_ON,
    fake_ehr,
    patient_handle,
    scored_elements,
)

MAX_GRADE = 6.0
NAMES = re.compile(r"\b(clozapine|REMS)\b", re.IGNORECASE)
STATES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "current": (
        {},
        [
            "next-test <p>",
            "last-result <p>",
            "last-result <p>",
            "call-now <p>",
            "call-now <ul>",
            "checklist <ul>",
        ],
    ),
    "late": (
        {"anc_on": LATE_ANC_ON},
        [
            "no-recent-result <h2>",
            "no-recent-result <p>",
            "next-test <p>",
            "last-result <p>",
            "last-result <p>",
            "call-now <p>",
            "call-now <ul>",
            "checklist <ul>",
        ],
    ),
    "unreadable": (
        {"broken": {"Observation": "error"}},
        [
            "no-recent-result <h2>",
            "no-recent-result <p>",
            "call-now <p>",
            "call-now <ul>",
            "checklist <ul>",
        ],
    ),
}


def plain(text: str) -> str:
    """The text without numbers and the medicine's and program's names."""
    return " ".join(word for word in NAMES.sub("", text).split() if not re.search(r"\d", word))


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("user", [f"Patient/{PATIENT}", f"RelatedPerson/{CAREGIVER}"])
def test_english_explanatory_text_reads_at_grade_six(app, client, state, user) -> None:
    options, expected = STATES[state]
    with fake_ehr(**options):
        handle = patient_handle(app, user=user)
        html = client.get("/patient", query_string={"h": handle, "lang": "en"}).get_data(
            as_text=True
        )
    elements = scored_elements(html)
    assert [name for name, _ in elements] == expected
    text = " ".join(plain(words) for _, words in elements)
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"grade {grade} over {[name for name, _ in elements]}: {text}"


def test_readability_check_fails_on_hard_text() -> None:
    hard = (
        "Agranulocytosis necessitates immediate discontinuation and comprehensive hematological "
        "evaluation, notwithstanding concomitant therapeutic considerations."
    )
    assert textstat.flesch_kincaid_grade(plain(hard)) > MAX_GRADE
