"""A fake EHR for in-process tests: SMART discovery, token and FHIR endpoints on `responses`.

One patient on clozapine (pt-1) whose latest ANC is `anc_on`; writes (POST Flag, PUT Flag) are
answered and kept, so a test can count what reached the EHR. No Node, no sockets. `served`
installs it for a block, `fake_ehr_settings` configures the app with it as its issuer, and
`launch` and `chart` go through the EHR launch to the chart page as a browser would.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from tests.app_helpers import ORG_CONFIG, app_settings

ISS = "https://ehr.example.org/fhir"
AUTHORIZE = "https://ehr.example.org/auth/authorize"
TOKEN = "https://ehr.example.org/auth/token"
REVOKE = "https://ehr.example.org/auth/revoke"
PATIENT = "pt-1"
SCOPES = (
    "launch openid fhirUser patient/Patient.rs patient/Observation.rs"
    " patient/MedicationRequest.rs patient/Condition.rs patient/Flag.crus"
)
CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json"],
    "rest": [
        {
            "mode": "server",
            "resource": [
                {"type": t}
                for t in ("Patient", "Observation", "MedicationRequest", "Condition", "Task")
            ]
            + [{"type": "Flag", "conditionalCreate": True}],
        }
    ],
}
ISSUER_TOML = (
    "[[issuer]]\n"
    'name = "Example EHR"\n'
    f'iss = "{ISS}"\n'
    'client_id = "clozapine-smartapp"\n'
    'auth_method = "none"\n'
    f'scopes = "{SCOPES}"\n'
    'frame_ancestors = ["https://ehr.example.org"]\n'
    'writeback = ["Flag"]\n'
)


MALFORMED = (
    "entry-object",
    "null-resource",
    "no-resource-type",
    "wrong-resource-type",
    "short-of-total",
)
# A searchset whose `next` page answers this status: paging cut short.
PAGING_CUT = {"next-page-500": 500, "next-page-404": 404}


def malformed(bundle: dict[str, Any], variant: str) -> dict[str, Any]:
    """A searchset made unreadable as `variant` says (its first entry is the one spoilt)."""
    if variant == "short-of-total":
        return {**bundle, "total": len(bundle.get("entry", [])) + 1}
    entries = [dict(e) for e in bundle.get("entry", [])] or [{"search": {"mode": "match"}}]
    first = entries[0]
    if variant == "entry-object":
        return {**bundle, "entry": first}
    if variant == "null-resource":
        first["resource"] = None
    elif variant == "no-resource-type":
        first["resource"] = {
            k: v for k, v in first.get("resource", {}).items() if k != "resourceType"
        }
    else:
        first["resource"] = {**first.get("resource", {}), "resourceType": "Basic"}
    return {**bundle, "entry": entries}


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


@dataclass
class FakeEhr:
    """The EHR's answers; `anc_on` is the collection date of the patient's latest ANC. A search
    of a resource type in `broken` fails as named there: `error` (HTTP 500), `junk` (200 with
    a body that is not JSON), or a searchset that cannot be read whole (MALFORMED: `entry` an
    object, a null resource, a resource without resourceType, one of another type, or fewer
    entries than its `total`), or one whose `next` page fails (PAGING_CUT). `patient_id`, when set, is the id the Patient read answers with;
    `identifiers` and `general_practitioner` are the Patient's. `revocation`, when set, is the
    HTTP status of a revocation endpoint the SMART configuration then advertises."""

    anc_on: str
    authored_on: str = "2026-05-01"
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    patient_id: str | None = None
    general_practitioner: list[dict[str, Any]] = field(default_factory=list)
    revocation: int | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def install(self, mock: responses.RequestsMock) -> None:
        """Register every endpoint on a responses mock."""
        mock.add(
            responses.GET,
            f"{ISS}/.well-known/smart-configuration",
            json={
                "authorization_endpoint": AUTHORIZE,
                "token_endpoint": TOKEN,
                "code_challenge_methods_supported": ["S256"],
                "capabilities": ["launch-ehr", "context-ehr-patient"],
            }
            | ({"revocation_endpoint": REVOKE} if self.revocation is not None else {}),
        )
        if self.revocation is not None:
            mock.add(responses.POST, REVOKE, status=self.revocation)
        mock.add(
            responses.POST,
            TOKEN,
            json={
                "access_token": "fake-access-token",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": SCOPES,
                "patient": PATIENT,
                "need_patient_banner": True,
                "tenant": "fake-tenant",
            },
        )
        mock.add(responses.GET, f"{ISS}/metadata", json=CAPABILITY)
        mock.add_callback(responses.GET, f"{ISS}/Patient/{PATIENT}", self._patient)
        mock.add_callback(responses.GET, re.compile(rf"{ISS}/MedicationRequest\b.*"), self._orders)
        mock.add_callback(responses.GET, re.compile(rf"{ISS}/Observation\b.*"), self._labs)
        mock.add_callback(responses.GET, re.compile(rf"{ISS}/Condition\b.*"), self._conditions)
        mock.add_callback(responses.POST, f"{ISS}/Flag", self._create_flag)
        mock.add_callback(responses.GET, re.compile(rf"{ISS}/Flag/[^/?]+$"), self._read_flag)
        mock.add_callback(responses.GET, re.compile(rf"{ISS}/Flag(\?.*)?$"), self._search_flags)
        mock.add_callback(responses.PUT, re.compile(rf"{ISS}/Flag/[^/?]+$"), self._update_flag)

    def _answer(
        self, resource_type: str, bundle: dict[str, Any], request: Any
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Content-Type": "application/fhir+json"}
        fault = self.broken.get(resource_type)
        if fault in PAGING_CUT:
            if "page=2" in str(request.url):
                return PAGING_CUT[fault], headers, json.dumps({"resourceType": "OperationOutcome"})
            next_page = {"relation": "next", "url": f"{ISS}/{resource_type}?page=2"}
            bundle = {**bundle, "link": [next_page]}
        if fault == "error":
            return 500, headers, json.dumps({"resourceType": "OperationOutcome"})
        if fault == "junk":
            return 200, headers, '{"resourceType": "Bundle", "entry": ['
        if fault in MALFORMED:
            bundle = malformed(bundle, fault)
        return 200, headers, json.dumps(bundle)

    def _patient(self, request: Any) -> tuple[int, dict[str, str], str]:
        patient = {
            "resourceType": "Patient",
            "id": self.patient_id or PATIENT,
            "name": [{"text": "Pat Example"}],
            "identifier": self.identifiers,
        }
        if self.general_practitioner:
            patient["generalPractitioner"] = self.general_practitioner
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(patient)

    def _conditions(self, request: Any) -> tuple[int, dict[str, str], str]:
        return self._answer("Condition", _bundle(), request)

    def _orders(self, request: Any) -> tuple[int, dict[str, str], str]:
        order = {
            "resourceType": "MedicationRequest",
            "id": "rx-1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "authoredOn": self.authored_on,
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                        "code": "2626",
                        "display": "clozapine",
                    }
                ]
            },
        }
        return self._answer("MedicationRequest", _bundle(order), request)

    def _labs(self, request: Any) -> tuple[int, dict[str, str], str]:
        anc = {
            "resourceType": "Observation",
            "id": f"anc-{self.anc_on}",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
            "subject": {"reference": f"Patient/{PATIENT}"},
            "effectiveDateTime": f"{self.anc_on}T15:00:00Z",
            "valueQuantity": {"value": 2400, "unit": "/uL", "code": "/uL"},
        }
        return self._answer("Observation", _bundle(anc), request)

    def _create_flag(self, request: Any) -> tuple[int, dict[str, str], str]:
        flag = json.loads(request.body)
        flag["id"] = f"flag-{next(self._ids)}"
        flag["meta"] = {"versionId": "1"}
        self.flags[flag["id"]] = flag
        return 201, {"Content-Type": "application/fhir+json"}, json.dumps(flag)

    def _search_flags(self, request: Any) -> tuple[int, dict[str, str], str]:
        """Flag?identifier=system|value[,...]: the kept Flags carrying one of the identifiers."""
        query = parse_qs(urlsplit(request.url).query)
        wanted = {
            tuple(token.split("|", 1))
            for value in query.get("identifier", [])
            for token in value.split(",")
        }
        found = [
            flag
            for flag in self.flags.values()
            if any((i.get("system"), i.get("value")) in wanted for i in flag.get("identifier", []))
        ]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(_bundle(*found))

    def _read_flag(self, request: Any) -> tuple[int, dict[str, str], str]:
        flag = self.flags[urlsplit(request.url).path.rsplit("/", 1)[-1]]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(flag)

    def _update_flag(self, request: Any) -> tuple[int, dict[str, str], str]:
        flag = json.loads(request.body)
        version = int(self.flags[flag["id"]]["meta"]["versionId"]) + 1
        flag["meta"] = {"versionId": str(version)}
        self.flags[flag["id"]] = flag
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(flag)


def writes(mock: responses.RequestsMock) -> list[str]:
    """`METHOD path` of every request that could change the EHR."""
    found = []
    for call in mock.calls:
        method, url = str(call.request.method), str(call.request.url)
        if method not in ("GET", "HEAD") and not url.startswith(TOKEN):
            found.append(f"{method} {urlsplit(url).path}")
    return found


def state_of(authorize_url: str) -> str:
    """The `state` the app put on its authorize redirect."""
    return parse_qs(urlsplit(authorize_url).query)["state"][0]


def fake_ehr_settings(folder: Path, **overrides: str) -> dict[str, str]:
    """`app_settings` with the fake EHR as the one issuer and the sandbox organisation's program."""
    return app_settings(folder, ISSUER_TOML, **{"ORG_CONFIG": str(ORG_CONFIG), **overrides})


@contextmanager
def served(fake: FakeEhr) -> Iterator[responses.RequestsMock]:
    """`fake` answering every request of the block; the mock, to add to or read its calls."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield mock


def launch(client: Any, launch_id: str = "launch-1") -> str:
    """The EHR launch up to the chart's URL; the launch handle."""
    started = client.get("/launch", query_string={"iss": ISS, "launch": launch_id})
    assert started.status_code == 302, started.get_data(as_text=True)[:400]
    back = client.get(
        "/callback", query_string={"code": "code-1", "state": state_of(started.location)}
    )
    assert back.status_code == 303, back.get_data(as_text=True)[:400]
    handle = re.fullmatch(r"/chart\?h=([A-Za-z0-9_-]+)", back.location)
    assert handle, back.location
    return handle.group(1)


def chart(client: Any, handle: str) -> tuple[int, str]:
    """GET /chart for `handle`: its status and page."""
    page = client.get("/chart", query_string={"h": handle})
    return page.status_code, page.get_data(as_text=True)
