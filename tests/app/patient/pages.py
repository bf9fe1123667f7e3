"""The patient view on a faked EHR: sessions opened as the patient or a caregiver, pages read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any

import responses
import time_machine

from tests.app.fake_ehr import ISS, PATIENT, FakeEhr
from tests.app_helpers import NOW, open_session

CAREGIVER = "rp-1"
CAREGIVER_NAME = "Robin Example"
# Day 206 of treatment (every two weeks from six months): an ANC on 11-23 is next due on 12-07.
CURRENT_ANC_ON = "2026-11-23"
# Due on 11-15, so ten days late on 11-25.
LATE_ANC_ON = "2026-11-01"


@contextmanager
def fake_ehr(anc_on: str = CURRENT_ANC_ON, **options: Any) -> Iterator[FakeEhr]:
    """The faked EHR, with the patient's caregiver (`RelatedPerson/rp-1`, linked to `linked_to`),
    the clock frozen at `now` (NOW by default)."""
    linked_to = options.pop("linked_to", PATIENT)
    active = options.pop("caregiver_active", True)
    now = options.pop("now", NOW)
    fake = FakeEhr(anc_on=anc_on, **options)
    with (
        time_machine.travel(now, tick=False),
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        fake.install(mock)
        person = {
            "resourceType": "RelatedPerson",
            "id": CAREGIVER,
            "active": active,
            "patient": {"reference": f"Patient/{linked_to}"},
            "name": [{"text": CAREGIVER_NAME}],
        }
        mock.add(
            responses.GET,
            f"{ISS}/RelatedPerson/{CAREGIVER}",
            body=json.dumps(person),
            content_type="application/fhir+json",
        )
        yield fake


def patient_handle(app: Any, user: str = f"Patient/{PATIENT}") -> str:
    """A launch session signed in as `user` (the patient by default) for the patient."""
    return open_session(
        app, fhir_user=user, patient=PATIENT, scopes="launch openid fhirUser patient/*.rs"
    )


VOID_TAGS = frozenset({"br", "meta", "link", "input", "img", "hr"})


class _Text(HTMLParser):
    """The text of a page (outside script and style), and of the elements marked `data-read`
    (named by their section's data-testid and tag) with their `data-date` parts left out."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.read: list[tuple[str, list[str]]] = []
        self._stack: list[tuple[str, bool, bool, bool]] = []  # tag, scored, dated, hidden
        self._section = "page"

    def _state(self) -> tuple[bool, bool, bool]:
        if not self._stack:
            return False, False, False
        _, scored, dated, hidden = self._stack[-1]
        return scored, dated, hidden

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        names = dict(attrs)
        scored, dated, hidden = self._state()
        if tag == "section":
            self._section = names.get("data-testid") or names.get("aria-labelledby") or "section"
        if "data-read" in names and not scored:
            self.read.append((f"{self._section} <{tag}>", []))
            scored = True
        dated = dated or "data-date" in names
        hidden = hidden or tag in ("script", "style", "title")
        self._stack.append((tag, scored, dated, hidden))

    def handle_endtag(self, tag: str) -> None:
        scored = self._state()[0]
        while self._stack:
            if self._stack.pop()[0] == tag:
                break
        if tag == "li" and scored:  # a list item is read as a sentence of its own
            self.read[-1][1].append(".")

    def handle_data(self, data: str) -> None:
        scored, dated, hidden = self._state()
        if hidden:
            return
        self.chunks.append(data)
        if scored and not dated:
            self.read[-1][1].append(data)


def page_text(html: str) -> str:
    """The page's visible text, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


def scored_elements(html: str) -> list[tuple[str, str]]:
    """The explanatory elements (`data-read`) and their text, dates left out."""
    parser = _Text()
    parser.feed(html)
    return [(name, " ".join(" ".join(parts).split())) for name, parts in parser.read]


def sentences(text: str) -> list[str]:
    """The sentences of `text` (split after . : ! ?)."""
    return [s.strip() for s in re.split(r"(?<=[.:!?])\s+", text) if s.strip()]


def text_nodes(html: str) -> list[str]:
    """Each visible text node of the page, whitespace collapsed (empty ones left out)."""
    parser = _Text()
    parser.feed(html)
    return [" ".join(chunk.split()) for chunk in parser.chunks if chunk.strip()]
