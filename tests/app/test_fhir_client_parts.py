"""The FHIR client's small parts as tables: Retry-After, backoff, origins, references, texts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_client import RetryPolicy
from fhir_client.errors import outcome_codes, outcome_texts
from fhir_client.paging import next_link, same_origin
from fhir_client.references import local_reference
from fhir_client.retry import retry_after_seconds

BASE = "https://ehr.example.org/fhir/r4"
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0),  # in the past
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_fhir_client_retry_after_seconds(value, expected):
    assert retry_after_seconds(value, NOW) == expected


def test_fhir_client_backoff_doubles_with_equal_jitter():
    policy = RetryPolicy(max_retries=3, backoff_s=2.0)
    assert [policy.delay_s(n, None, lambda: 0.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert [policy.delay_s(n, None, lambda: 1.0) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert policy.delay_s(1, 9.0, lambda: 0.0) == 9.0


@pytest.mark.parametrize(
    ("retry", "elapsed", "delay", "allowed"),
    [(1, 0, 1, True), (3, 0, 1, True), (4, 0, 1, False), (1, 29, 1, True), (1, 29, 2, False)],
)
def test_fhir_client_retry_policy_limits(retry, elapsed, delay, allowed):
    assert RetryPolicy(max_retries=3, budget_s=30).allows(retry, elapsed, delay) is allowed


def test_fhir_client_retry_policy_refuses_negative_settings():
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(max_retries=-1)


@pytest.mark.parametrize(
    ("url", "same"),
    [
        (f"{BASE}/Observation?page=2", True),
        ("https://EHR.example.org:443/other/path", True),
        ("http://ehr.example.org/fhir/r4/Observation", False),
        ("https://ehr.example.org.evil.test/fhir/r4", False),
        ("https://user:pw@ehr.example.org/fhir/r4", False),
        ("https://ehr.example.org:99999/fhir", False),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
    ],
)
def test_fhir_client_same_origin(url, same):
    assert same_origin(url, BASE) is same


def test_fhir_client_next_link_absolute_relative_and_absent():
    assert next_link({"link": [{"relation": "next", "url": "Observation?p=2"}]}, BASE) == (
        f"{BASE}/Observation?p=2"
    )
    assert next_link({"link": [{"relation": "self", "url": "x"}]}, BASE) is None
    assert next_link({}, BASE) is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("Medication/med-1", ("Medication", "med-1")),
        ("Practitioner/dr-1/_history/3", ("Practitioner", "dr-1")),
        (f"{BASE}/Organization/org-1", ("Organization", "org-1")),
        ("https://other.example.org/fhir/Practitioner/x", None),
        ("#med", None),
        ("urn:uuid:4f7e0c2a-1b2c-4d5e-8f90-123456789abc", None),
        ("Practitioner/../../admin", None),
        ("Practitioner", None),
        (None, None),
    ],
)
def test_fhir_client_local_reference(reference, expected):
    assert local_reference(reference, BASE) == expected


def test_fhir_client_outcome_texts_and_codes():
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"code": "forbidden", "diagnostics": "No scope"},
            {"code": "processing", "details": {"text": "Try later"}},
            {"code": "Not a code!", "diagnostics": "No scope"},
            "junk",
        ],
    }
    assert outcome_texts(outcome) == ["No scope", "Try later"]
    assert outcome_codes(outcome) == ["forbidden", "processing"]
    assert outcome_texts(None) == [] and outcome_codes({"issue": "x"}) == []


def test_capability_cache_shares_the_statement_across_clients_until_it_expires() -> None:
    import responses as responses_lib

    from fhir_client import CapabilityCache, FhirClient

    now = [0.0]
    cache = CapabilityCache(ttl_s=600, clock=lambda: now[0])
    base = "https://ehr.example.org/fhir"
    statement = {"resourceType": "CapabilityStatement", "rest": [{"resource": [{"type": "Flag"}]}]}
    with responses_lib.RequestsMock() as ehr:
        ehr.get(f"{base}/metadata", json=statement)
        for _ in range(3):
            client = FhirClient(base, lambda: "t", capability_cache=cache, cache_key="app")
            assert client.supports("Flag")
        assert len(ehr.calls) == 1
        now[0] = 601
        assert FhirClient(base, lambda: "t", capability_cache=cache, cache_key="app").supports(
            "Flag"
        )
        assert len(ehr.calls) == 2
        FhirClient(base, lambda: "t", capability_cache=cache, cache_key="other").capabilities()
        assert len(ehr.calls) == 3  # another client id may see another statement
