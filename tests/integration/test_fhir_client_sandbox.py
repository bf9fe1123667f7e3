"""The app's FHIR client against the real sandbox EHR: a real launch's token, faults, vendors."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fhir_client import (
    FhirAuthError,
    FhirBadRequest,
    FhirClient,
    FhirUnavailable,
)
from fhir_mappings import patient_facts_from_bundle
from smartapp.ehr.patient_reads import PatientReads, read_patient_bundle
from tests.integration.smart import SmartClient

pytestmark = pytest.mark.integration

SCOPE = "launch offline_access patient/*.rs"
NO_CONDITION_SCOPE = (
    "launch patient/Patient.rs patient/MedicationRequest.rs patient/Medication.rs "
    "patient/Observation.rs patient/PractitionerRole.rs patient/Practitioner.rs "
    "patient/Organization.rs"
)
LONG_HISTORY = "sbx-long-weekly-history"  # 107 lab Observations
# Small budgets keep the fault tests quick.
QUICK = {"timeout": 5.0, "max_retries": 2, "backoff": 0.05, "retry_budget": 5.0}


@dataclass
class Chart:
    """One app client registered with the sandbox, launched for one patient."""

    smart: SmartClient
    client_id: str
    token: dict[str, Any]
    sent: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    sessions: list[requests.Session] = field(default_factory=list)

    @property
    def patient(self) -> str:
        return str(self.token["patient"])

    def access_token(self) -> str:
        return str(self.token["access_token"])

    def refresh(self) -> bool:
        response = self.smart.refresh(self.token["refresh_token"], client_id=self.client_id)
        self.token = response.json() if response.status_code == 200 else self.token
        return response.status_code == 200

    def client(self, **options: Any) -> FhirClient:
        """A FhirClient on a session that trusts the sandbox CA and records what it sent."""
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override `verify`
        session.verify = str(self.smart.sandbox.ca_path)
        session.hooks["response"].append(lambda response, **_: self.sent.append(response.url))
        self.sessions.append(session)
        options = {**QUICK, "sleep": self.waits.append, "client_id": self.client_id, **options}
        return FhirClient(self.smart.iss, self.access_token, session=session, **options)

    def read(self, client: FhirClient) -> PatientReads:
        with ThreadPoolExecutor(max_workers=4) as executor:
            return read_patient_bundle(client, self.patient, executor=executor)

    def sent_to(self, resource_type: str) -> list[dict[str, list[str]]]:
        paths = [(urlsplit(url).path, urlsplit(url).query) for url in self.sent]
        return [parse_qs(query) for path, query in paths if path.endswith(f"/{resource_type}")]


@pytest.fixture
def chart(smart: SmartClient) -> Iterator[Any]:
    """Launch a fresh client of the test's own (its faults and vendor reach no other test)."""
    charts: list[Chart] = []

    def launch(patient: str | None = None, scope: str = SCOPE, **client: Any) -> Chart:
        client_id = smart.register(scope, **client)
        token = smart.ehr_launch(client_id, scope, patient=patient)
        charts.append(Chart(smart, client_id, token))
        return charts[-1]

    yield launch
    for made in charts:
        for session in made.sessions:
            session.close()


# -- reading a chart --
def test_fhir_client_sandbox_patient_bundle_maps_to_facts(chart):
    launched = chart("sbx-weekly-current")
    reads = launched.read(launched.client())
    facts = patient_facts_from_bundle(reads.bundle())[0]
    assert facts.patient == f"Patient/{launched.patient}"
    assert len(facts.ancs) >= 5 and len(facts.orders) == 1
    assert reads.notes == [] and not reads.ben_status_unknown
    # Only a PractitionerRole requester is read (to learn its practitioner); the order's
    # prescriber is a Practitioner reference either way.
    assert all(r["resourceType"] == "PractitionerRole" for r in reads.prescribers)
    assert (facts.orders[0].prescriber or "").startswith("Practitioner/")
    full_urls = [entry["fullUrl"] for entry in reads.bundle()["entry"]]
    assert all(url.startswith(f"{launched.smart.iss}/") for url in full_urls)


def test_fhir_client_sandbox_paging_reads_every_observation(chart):
    launched = chart(LONG_HISTORY)
    reads = launched.read(launched.client(page_size=25))
    assert len(reads.observations) == 107
    assert len(launched.sent_to("Observation")) == 5  # 25 + 25 + 25 + 25 + 7
    assert len(patient_facts_from_bundle(reads.bundle())[0].ancs) > 50


def test_fhir_client_sandbox_conditions_denied_leaves_ben_unknown(chart):
    launched = chart("sbx-ben-severe", scope=NO_CONDITION_SCOPE)
    reads = launched.read(launched.client())
    assert reads.ben_status_unknown and reads.conditions == []
    assert reads.notes == ["Conditions could not be read (403): documented BEN cannot be checked."]
    assert patient_facts_from_bundle(reads.bundle())[0].ancs


def test_fhir_client_sandbox_observation_denied_raises_with_the_ehr_reason(chart):
    launched = chart(scope="launch patient/Patient.rs patient/Condition.rs")
    with pytest.raises(FhirAuthError) as raised:
        launched.client().search("Observation", {"patient": launched.patient})
    assert raised.value.status == 403 and not raised.value.expired
    assert "The granted scopes do not allow search on Observation" in raised.value.user_message


# -- faults --
def test_fhir_client_sandbox_rate_limit_retried_after_retry_after(chart):
    launched = chart()
    launched.smart.fault(fault="rate_limit", client_id=launched.client_id, count=2, retry_after=1)
    patient = launched.client().read("Patient", launched.patient)
    assert patient["id"] == launched.patient
    assert launched.waits == [1.0, 1.0] and len(launched.sent) == 3


def test_fhir_client_sandbox_unavailable_beyond_retries_gives_up(chart):
    launched = chart()
    launched.smart.fault(fault="unavailable", client_id=launched.client_id)
    with pytest.raises(FhirUnavailable) as raised:
        launched.client().read("Patient", launched.patient)
    error = raised.value
    assert error.status == 503 and error.retryable and error.attempts == 3
    assert error.user_message.startswith(
        "The EHR is unavailable right now (HTTP 503); the app tried 3 times"
    )
    assert 'The EHR said: "Service unavailable (simulated)".' in error.user_message


def test_fhir_client_sandbox_server_error_not_retried(chart):
    launched = chart()
    launched.smart.fault(fault="server_error", client_id=launched.client_id, count=1)
    with pytest.raises(FhirUnavailable) as raised:
        launched.client().read("Patient", launched.patient)
    assert raised.value.status == 500 and not raised.value.retryable and len(launched.sent) == 1


def test_fhir_client_sandbox_slow_beyond_timeout_gives_up(chart):
    launched = chart()
    launched.smart.fault(fault="slow", client_id=launched.client_id, delay=1.0, count=2)
    with pytest.raises(FhirUnavailable) as raised:
        launched.client(timeout=0.3, max_retries=1).read("Patient", launched.patient)
    assert raised.value.user_message.startswith("The EHR did not answer within 0.3 seconds.")
    assert raised.value.status is None and raised.value.attempts == 2


def test_fhir_client_sandbox_slow_once_then_retry_succeeds(chart):
    launched = chart()
    launched.smart.fault(fault="slow", client_id=launched.client_id, delay=1.0, count=1)
    patient = launched.client(timeout=0.3).read("Patient", launched.patient)
    assert patient["id"] == launched.patient and len(launched.waits) == 1


def test_fhir_client_sandbox_token_expired_raises_expired(chart):
    launched = chart()
    launched.smart.fault(fault="token_expired", client_id=launched.client_id)
    with pytest.raises(FhirAuthError) as raised:
        launched.client().read("Patient", launched.patient)
    assert raised.value.expired and raised.value.status == 401
    assert raised.value.user_message.startswith("Your EHR session has expired")
    assert launched.access_token() not in raised.value.user_message


def test_fhir_client_sandbox_token_expired_refreshed_once(chart):
    launched = chart()
    first_token = launched.access_token()
    launched.smart.fault(fault="token_expired", client_id=launched.client_id, count=1)
    client = launched.client(on_unauthorized=launched.refresh)
    assert client.read("Patient", launched.patient)["id"] == launched.patient
    assert launched.access_token() != first_token and len(launched.sent) == 2


# -- vendor profiles --
def test_fhir_client_sandbox_epic_observation_search_carries_category(chart):
    launched = chart(LONG_HISTORY, vendor="epic")
    found = launched.client(vendor="epic").search("Observation", {"patient": launched.patient})
    assert found and launched.sent_to("Observation")[0]["category"] == ["laboratory"]


def test_fhir_client_sandbox_epic_refuses_a_search_without_category(chart):
    launched = chart(vendor="epic")
    with pytest.raises(FhirBadRequest) as raised:
        launched.client().search("Observation", {"patient": launched.patient})
    assert "require the category parameter" in raised.value.user_message


def test_fhir_client_sandbox_epic_patient_bundle(chart):
    launched = chart("sbx-weekly-current", vendor="epic")
    reads = launched.read(launched.client(vendor="epic"))
    assert len(patient_facts_from_bundle(reads.bundle())[0].ancs) >= 5


def test_fhir_client_sandbox_oracle_caps_count_and_pages_to_the_end(chart):
    launched = chart(LONG_HISTORY, vendor="oracle")
    one_page = launched.read(launched.client(vendor="oracle", page_size=500))
    assert launched.sent_to("Observation")[0]["_count"] == ["200"]
    launched.sent.clear()
    paged = launched.read(launched.client(vendor="oracle", page_size=40))
    counts = [int(query["_count"][0]) for query in launched.sent_to("Observation")]
    assert len(counts) == 3 and all(count <= 200 for count in counts)
    assert len(paged.observations) == len(one_page.observations) == 107


def test_fhir_client_sandbox_oracle_has_no_flag(chart):
    launched = chart(vendor="oracle")
    assert not launched.client().supports("Flag")  # from the CapabilityStatement
    assert not launched.client(vendor="oracle").supports("Task")  # from the profile


def test_fhir_client_sandbox_practitioner_role_requester_resolves_to_its_practitioner(chart):
    launched = chart("sbx-weekly-due")
    reads = launched.read(launched.client())
    assert [f"{r['resourceType']}/{r['id']}" for r in reads.prescribers] == [
        "PractitionerRole/sbx-role-bo"
    ]
    facts = patient_facts_from_bundle(reads.bundle())[0]
    assert facts.orders[0].prescriber == "Practitioner/sbx-dr-bo"
