"""FhirClient against faked FHIR endpoints (`responses`), each test breaking one thing."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from fhir_client import (
    FhirAuthError,
    FhirBadRequest,
    FhirClient,
    FhirError,
    FhirNotFound,
    FhirUnavailable,
)
from fhir_mappings import FhirJson

BASE = "https://ehr.example.org/fhir/r4"
TOKEN = "secret-access-token-abc123"  # a fake, checked never to leak
PATIENT = "pat-9f2"


class FakeClock:
    """A monotonic clock that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_client(clock: FakeClock, **options) -> FhirClient:
    options.setdefault("max_retries", 3)
    options.setdefault("backoff", 1.0)
    return FhirClient(
        BASE, lambda: TOKEN, clock=clock, sleep=clock.sleep, rng=lambda: 0.5, **options
    )


def outcome(code: str, diagnostics: str) -> FhirJson:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def searchset(resources: list[FhirJson], next_url: str | None = None) -> FhirJson:
    links = [{"relation": "next", "url": next_url}] if next_url else []
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def observation(number: int) -> FhirJson:
    return {"resourceType": "Observation", "id": f"obs-{number}"}


def sent_query(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# -- reads and headers --
def test_fhir_client_read_sends_bearer_and_fhir_accept(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    patient = make_client(clock).read("Patient", PATIENT)
    assert patient["id"] == PATIENT
    headers = fake.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/fhir+json"


def test_fhir_client_body_not_fhir_json_raises(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", body="<html>login</html>")
    with pytest.raises(FhirError) as raised:
        make_client(clock).read("Patient", PATIENT)
    assert "could not read" in raised.value.user_message


def test_fhir_client_redirect_not_followed(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", status=302, headers={"Location": "https://evil.test/x"})
    with pytest.raises(FhirError) as raised:
        make_client(clock).read("Patient", PATIENT)
    assert raised.value.status == 302 and len(fake.calls) == 1


# -- paging --
def test_fhir_client_search_follows_next_links_to_the_end(fake, clock):
    page2, page3 = f"{BASE}/Observation?page=2", f"{BASE}/Observation?page=3"
    fake.get(
        f"{BASE}/Observation",
        json=searchset([observation(3)]),
        match=[matchers.query_param_matcher({"page": "3"})],
    )
    fake.get(
        f"{BASE}/Observation",
        json=searchset([observation(2)], page3),
        match=[matchers.query_param_matcher({"page": "2"})],
    )
    fake.get(f"{BASE}/Observation", json=searchset([observation(1)], page2))
    found = make_client(clock).search("Observation", {"patient": PATIENT})
    assert [r["id"] for r in found] == ["obs-1", "obs-2", "obs-3"]
    assert len(fake.calls) == 3


def test_fhir_client_search_relative_next_link_resolves_against_base(fake, clock):
    fake.get(
        f"{BASE}/Observation",
        json=searchset([observation(2)]),
        match=[matchers.query_param_matcher({"page": "2"})],
    )
    fake.get(f"{BASE}/Observation", json=searchset([observation(1)], "Observation?page=2"))
    assert len(make_client(clock).search("Observation", {"patient": PATIENT})) == 2


def test_fhir_client_search_cross_origin_next_link_refused(fake, clock):
    fake.get(
        f"{BASE}/Observation",
        json=searchset([observation(1)], "https://attacker.test/fhir/Observation?page=2"),
    )
    with pytest.raises(FhirError) as raised:
        make_client(clock).search("Observation", {"patient": PATIENT})
    assert "another server" in raised.value.user_message
    assert [call.request.url.split("?")[0] for call in fake.calls] == [f"{BASE}/Observation"]


@pytest.mark.parametrize(
    "next_url",
    [
        "http://ehr.example.org/fhir/r4/Observation?page=2",  # scheme downgrade
        "https://ehr.example.org:8443/fhir/r4/Observation?page=2",  # another port
        "https://user@ehr.example.org/fhir/r4/Observation?page=2",  # credentials
    ],
)
def test_fhir_client_search_next_link_other_origin_variants_refused(fake, clock, next_url):
    fake.get(f"{BASE}/Observation", json=searchset([observation(1)], next_url))
    with pytest.raises(FhirError):
        make_client(clock).search("Observation", {"patient": PATIENT})
    assert len(fake.calls) == 1


def test_fhir_client_search_next_link_loop_refused(fake, clock):
    loop = f"{BASE}/Observation?page=2"
    fake.get(f"{BASE}/Observation", json=searchset([observation(1)], loop))
    with pytest.raises(FhirError) as raised:
        make_client(clock).search("Observation", {"patient": PATIENT})
    assert "loop" in raised.value.user_message


def test_fhir_client_search_page_cap_stops_reading(fake, clock):
    fake.get(
        f"{BASE}/Observation",
        json=searchset([observation(2)], f"{BASE}/Observation?page=3"),
        match=[matchers.query_param_matcher({"page": "2"})],
    )
    fake.get(f"{BASE}/Observation", json=searchset([observation(1)], f"{BASE}/Observation?page=2"))
    with pytest.raises(FhirError) as raised:
        make_client(clock, max_pages=2).search("Observation", {"patient": PATIENT})
    assert "more than 2 pages" in raised.value.user_message
    assert len(fake.calls) == 2


def test_fhir_client_search_resource_cap_stops_reading(fake, clock):
    fake.get(f"{BASE}/Observation", json=searchset([observation(n) for n in range(3)]))
    with pytest.raises(FhirError, match="more than 2 resources"):
        make_client(clock, max_resources=2).search("Observation", {"patient": PATIENT})


def test_fhir_client_search_leaves_out_outcome_entries_and_sends_page_size(fake, clock):
    bundle = searchset([observation(1)])
    bundle["entry"].append(
        {"resource": outcome("informational", "ok"), "search": {"mode": "outcome"}}
    )
    fake.get(f"{BASE}/Observation", json=bundle)
    found = make_client(clock, page_size=50).search("Observation", {"patient": PATIENT})
    assert [r["resourceType"] for r in found] == ["Observation"]
    assert sent_query(fake.calls[0])["_count"] == ["50"]


# -- retries --
def test_fhir_client_429_with_retry_after_then_success(fake, clock):
    busy = outcome("throttled", "Too many requests")
    fake.get(f"{BASE}/Patient/{PATIENT}", status=429, json=busy, headers={"Retry-After": "3"})
    fake.get(f"{BASE}/Patient/{PATIENT}", status=429, json=busy, headers={"Retry-After": "2"})
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    assert make_client(clock).read("Patient", PATIENT)["id"] == PATIENT
    assert clock.waits == [3.0, 2.0]


def test_fhir_client_retry_after_as_http_date_is_honoured(fake, clock):
    fake.get(
        f"{BASE}/Patient/{PATIENT}",
        status=503,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    make_client(clock).read("Patient", PATIENT)
    assert clock.waits == [0.0]  # a date in the past: try again at once


def test_fhir_client_503_repeated_gives_up_with_fhir_unavailable(fake, clock):
    fake.get(f"{BASE}/Observation", status=503, json=outcome("transient", "Down for maintenance"))
    with pytest.raises(FhirUnavailable) as raised:
        make_client(clock).search("Observation", {"patient": PATIENT})
    error = raised.value
    # backoff 1 s doubling, with rng 0.5 giving three quarters of each ceiling
    assert clock.waits == [0.75, 1.5, 3.0]
    assert len(fake.calls) == 4 and error.attempts == 4
    assert error.status == 503 and error.retryable
    assert error.user_message == (
        "The EHR is unavailable right now (HTTP 503); the app tried 4 times over 5 seconds."
        ' The EHR said: "Down for maintenance".'
    )


def test_fhir_client_429_gives_up_with_busy_message(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", status=429, headers={"Retry-After": "3"})
    with pytest.raises(FhirUnavailable) as raised:
        make_client(clock).read("Patient", PATIENT)
    assert raised.value.user_message == (
        "The EHR is busy (too many requests); the app tried 4 times over 9 seconds."
    )
    assert raised.value.retry_after_s == 3.0


def test_fhir_client_retry_after_beyond_budget_gives_up_without_waiting(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FhirUnavailable) as raised:
        make_client(clock, retry_budget=30).read("Patient", PATIENT)
    assert clock.waits == [] and len(fake.calls) == 1
    assert "asked the app to wait 120 seconds" in raised.value.user_message
    assert raised.value.retry_after_s == 120.0


def test_fhir_client_retry_budget_bounds_total_waiting(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", status=503)
    with pytest.raises(FhirUnavailable):
        make_client(clock, max_retries=10, backoff=4.0, retry_budget=10).read("Patient", PATIENT)
    assert sum(clock.waits) <= 10 and clock.waits == [3.0, 6.0]


def test_fhir_client_500_is_not_retried_by_default(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", status=500, json=outcome("exception", "NullPointer"))
    with pytest.raises(FhirUnavailable) as raised:
        make_client(clock).read("Patient", PATIENT)
    assert len(fake.calls) == 1 and not raised.value.retryable
    assert raised.value.user_message.startswith("The EHR had an internal error")


def test_fhir_client_500_retried_when_configured(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", status=500)
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    make_client(clock, retry_server_errors=True).read("Patient", PATIENT)
    assert len(fake.calls) == 2


def test_fhir_client_timeout_retried_then_gives_up(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(FhirUnavailable) as raised:
        make_client(clock, timeout=2, max_retries=1).read("Patient", PATIENT)
    assert len(fake.calls) == 2
    assert raised.value.user_message == (
        "The EHR did not answer within 2 seconds. The app tried 2 times over 1 second."
    )
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_fhir_client_connection_error_then_success(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", body=requests.ConnectionError("refused"))
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    assert make_client(clock).read("Patient", PATIENT)["id"] == PATIENT
    assert clock.waits == [0.75]


def test_fhir_client_untrusted_certificate_names_the_host_without_retrying(fake, clock):
    fake.get(f"{BASE}/Patient/{PATIENT}", body=requests.exceptions.SSLError("verify failed"))
    with pytest.raises(FhirUnavailable) as raised:
        make_client(clock).read("Patient", PATIENT)
    assert len(fake.calls) == 1 and clock.waits == []
    assert raised.value.retryable is False
    host = urlsplit(BASE).hostname
    assert f"does not trust the TLS certificate of {host}" in raised.value.user_message
    assert "set tls_ca_file" in raised.value.user_message
    assert str(raised.value) == (
        f"GET Patient -> TLS certificate of {host} not trusted (set tls_ca_file)"
    )


# -- authorization --
def test_fhir_client_401_refreshes_once_and_retries(fake, clock):
    tokens = ["old-token"]

    def refresh() -> bool:
        tokens.append("new-token")
        return True

    fake.get(
        f"{BASE}/Patient/{PATIENT}",
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    client = FhirClient(BASE, lambda: tokens[-1], on_unauthorized=refresh, sleep=clock.sleep)
    assert client.read("Patient", PATIENT)["id"] == PATIENT
    sent = [call.request.headers["Authorization"] for call in fake.calls]
    assert sent == ["Bearer old-token", "Bearer new-token"]
    assert clock.waits == []


def test_fhir_client_401_after_refresh_raises_expired(fake, clock):
    refreshes: list[int] = []

    def refresh() -> bool:
        refreshes.append(1)
        return True

    fake.get(
        f"{BASE}/Patient/{PATIENT}",
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    client = FhirClient(BASE, lambda: TOKEN, on_unauthorized=refresh)
    with pytest.raises(FhirAuthError) as raised:
        client.read("Patient", PATIENT)
    assert refreshes == [1] and len(fake.calls) == 2
    assert raised.value.expired and raised.value.status == 401
    assert (
        raised.value.user_message
        == "Your EHR session has expired: open the app again from the chart."
    )


def test_fhir_client_401_refresh_refused_raises_without_retry(fake, clock):
    fake.get(
        f"{BASE}/Patient/{PATIENT}",
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    client = FhirClient(BASE, lambda: TOKEN, on_unauthorized=lambda: False)
    with pytest.raises(FhirAuthError):
        client.read("Patient", PATIENT)
    assert len(fake.calls) == 1


def test_fhir_client_401_without_token_error_is_not_expired(fake, clock):
    fake.get(
        f"{BASE}/Patient/{PATIENT}", status=401, headers={"WWW-Authenticate": 'Bearer realm="ehr"'}
    )
    with pytest.raises(FhirAuthError) as raised:
        make_client(clock).read("Patient", PATIENT)
    assert not raised.value.expired and not raised.value.retryable


def test_fhir_client_403_operation_outcome_in_message(fake, clock):
    denied = outcome("forbidden", "The granted scopes do not allow search on Observation")
    fake.get(f"{BASE}/Observation", status=403, json=denied)
    with pytest.raises(FhirAuthError) as raised:
        make_client(clock).search("Observation", {"patient": PATIENT})
    error = raised.value
    assert error.status == 403 and not error.expired and error.operation_outcome == denied
    assert error.user_message == (
        "The EHR refused access to Observation: the app was not granted permission to read lab"
        ' results. The EHR said: "The granted scopes do not allow search on Observation".'
    )
    assert str(error) == "GET Observation -> 403 ['forbidden']"
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, FhirBadRequest),
        (422, FhirBadRequest),
        (404, FhirNotFound),
        (410, FhirNotFound),
        (409, FhirError),
    ],
)
def test_fhir_client_client_errors_map_to_the_tree_without_retry(fake, clock, status, error_class):
    fake.get(f"{BASE}/Condition", status=status, json=outcome("invalid", "Unknown parameter"))
    with pytest.raises(error_class) as raised:
        make_client(clock).search("Condition", {"patient": PATIENT})
    assert type(raised.value) is error_class
    assert raised.value.status == status and not raised.value.retryable
    assert 'The EHR said: "Unknown parameter".' in raised.value.user_message
    assert len(fake.calls) == 1


# -- vendor profiles --
def test_fhir_client_epic_adds_laboratory_category_to_observation_search(fake, clock):
    fake.get(f"{BASE}/Observation", json=searchset([]))
    make_client(clock, vendor="epic").search("Observation", {"patient": PATIENT})
    assert sent_query(fake.calls[0])["category"] == ["laboratory"]


def test_fhir_client_epic_keeps_a_category_given(fake, clock):
    fake.get(f"{BASE}/Observation", json=searchset([]))
    make_client(clock, vendor="epic").search(
        "Observation", {"patient": PATIENT, "category": "vital-signs"}
    )
    assert sent_query(fake.calls[0])["category"] == ["vital-signs"]


def test_fhir_client_generic_adds_no_category(fake, clock):
    fake.get(f"{BASE}/Observation", json=searchset([]))
    make_client(clock).search("Observation", {"patient": PATIENT})
    assert "category" not in sent_query(fake.calls[0])


@pytest.mark.parametrize(("page_size", "sent"), [(500, "200"), (150, "150")])
def test_fhir_client_oracle_caps_count(fake, clock, page_size, sent):
    fake.get(f"{BASE}/Observation", json=searchset([]))
    make_client(clock, vendor="oracle", page_size=page_size).search(
        "Observation", {"patient": PATIENT}
    )
    assert sent_query(fake.calls[0])["_count"] == [sent]


def test_fhir_client_oracle_caps_a_count_given_by_the_caller(fake, clock):
    fake.get(f"{BASE}/Observation", json=searchset([]))
    make_client(clock, vendor="oracle").search(
        "Observation", {"patient": PATIENT, "_count": "1000"}
    )
    assert sent_query(fake.calls[0])["_count"] == ["200"]


def test_fhir_client_oracle_refuses_flag_without_a_call(fake, clock):
    client = make_client(clock, vendor="oracle")
    with pytest.raises(FhirNotFound) as raised:
        client.create({"resourceType": "Flag", "status": "active"})
    assert raised.value.user_message.startswith("Oracle Health's FHIR API has no Flag resource")
    assert not client.supports("Task") and len(fake.calls) == 0


def test_fhir_client_unknown_vendor_is_refused():
    with pytest.raises(ValueError, match="vendor profile must be one of"):
        FhirClient(BASE, lambda: TOKEN, vendor="meditech")


# -- writes --
FLAG = {"resourceType": "Flag", "status": "active", "subject": {"reference": f"Patient/{PATIENT}"}}
CONDITION_QUERY = "identifier=urn:oid:2.25.1|flag-1"


def test_fhir_client_create_passes_if_none_exist(fake, clock):
    fake.post(f"{BASE}/Flag", status=200, json={**FLAG, "id": "f1"})
    status, created = make_client(clock).create(FLAG, if_none_exist=CONDITION_QUERY)
    assert (status, created["id"]) == (200, "f1")
    request = fake.calls[0].request
    assert request.headers["If-None-Exist"] == CONDITION_QUERY
    assert request.headers["Content-Type"] == "application/fhir+json"
    assert json.loads(request.body) == FLAG


def test_fhir_client_create_without_body_reads_id_from_location(fake, clock):
    fake.post(f"{BASE}/Flag", status=201, headers={"Location": f"{BASE}/Flag/f9/_history/1"})
    assert make_client(clock).create(FLAG) == (201, {"resourceType": "Flag", "id": "f9"})


def test_fhir_client_plain_create_is_not_retried(fake, clock):
    fake.post(f"{BASE}/Flag", status=503)
    with pytest.raises(FhirUnavailable):
        make_client(clock).create(FLAG)
    assert len(fake.calls) == 1


def test_fhir_client_conditional_create_is_retried(fake, clock):
    fake.post(f"{BASE}/Flag", status=503)
    fake.post(f"{BASE}/Flag", status=201, json={**FLAG, "id": "f1"})
    assert make_client(clock).create(FLAG, if_none_exist=CONDITION_QUERY)[0] == 201
    assert len(fake.calls) == 2


def test_fhir_client_update_sends_if_match(fake, clock):
    fake.put(f"{BASE}/Flag/f1", json={**FLAG, "id": "f1", "status": "inactive"})
    updated = make_client(clock).update({**FLAG, "id": "f1", "status": "inactive"}, if_match="3")
    assert updated["status"] == "inactive"
    assert fake.calls[0].request.headers["If-Match"] == 'W/"3"'


def test_fhir_client_update_needs_an_id(clock):
    with pytest.raises(ValueError, match="id"):
        make_client(clock).update(FLAG)


# -- capabilities --
CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "rest": [
        {
            "mode": "server",
            "resource": [
                {"type": "MedicationRequest", "searchInclude": ["MedicationRequest:medication"]},
                {"type": "Observation"},
            ],
        }
    ],
}


def test_fhir_client_capabilities_read_once(fake, clock):
    fake.get(f"{BASE}/metadata", json=CAPABILITY)
    client = make_client(clock)
    assert client.search_includes("MedicationRequest") == {"MedicationRequest:medication"}
    assert client.supports("Observation") and not client.supports("Flag")
    assert client.capabilities() is client.capabilities()
    assert len(fake.calls) == 1


def test_fhir_client_unreadable_capabilities_let_the_call_decide(fake, clock):
    fake.get(f"{BASE}/metadata", status=404)
    client = make_client(clock)
    assert client.supports("Flag") and client.search_includes("MedicationRequest") == frozenset()


# -- what never leaks --
def test_fhir_client_no_token_or_url_in_errors_or_logs(fake, clock, caplog):
    echoed = outcome("forbidden", f"Token {TOKEN} lacks scope")
    fake.get(f"{BASE}/Observation", status=429, headers={"Retry-After": "1"})
    fake.get(f"{BASE}/Observation", status=403, json=echoed)
    caplog.set_level(logging.DEBUG, logger="fhir_client")
    with pytest.raises(FhirAuthError) as raised:
        make_client(clock).search("Observation", {"patient": PATIENT})
    error = raised.value
    texts = [error.user_message, str(error), repr(error)]
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) == 2
    for text in texts:
        assert TOKEN not in text and PATIENT not in text and "https://" not in text
    assert "[access token]" in error.user_message
    assert caplog.records[0].getMessage().startswith("fhir GET Observation status=429 attempt=1")
    assert {record.name for record in caplog.records} == {"fhir_client"}
