"""Simulated faults: the control API's JSON shape, and counting calls per client or launch."""

from __future__ import annotations

import pytest

from sandbox.ehr.faults import (
    Fault,
    FaultError,
    FaultKind,
    FaultRegistry,
    Surface,
    Variant,
    fault_from_json,
)


@pytest.mark.parametrize(
    "data",
    [
        {"fault": "nope"},
        {},
        {"fault": "slow"},  # needs delay
        {"fault": "rate_limit", "count": 0},
        {"fault": "rate_limit", "count": 1.5},
        {"fault": "rate_limit", "retry_after": "soon"},
        {"fault": "server_error", "on": "chart"},
        {"fault": "server_error", "client_id": 7},
        ["server_error"],
        {"fault": "malformed_searchset", "variant": "null_resource"},  # needs resource_type
        {"fault": "malformed_searchset", "resource_type": "Observation"},  # needs variant
        {"fault": "malformed_searchset", "resource_type": "Observation", "variant": "odd"},
        {"fault": "paging_cut_short"},
        {"fault": "paging_cut_short", "resource_type": "Obs/1"},
        {"fault": "patient_other_id", "answer_id": "a b"},
        {"fault": "next_link_fails"},  # needs resource_type
        {"fault": "next_link_fails", "resource_type": "Observation", "status": 200},
        {"fault": "next_link_fails", "resource_type": "Observation", "status": "500"},
        {"fault": "next_link_fails", "resource_type": "Observation", "status": True},
    ],
)
def test_faults_malformed_requests_are_refused(data):
    with pytest.raises(FaultError):
        fault_from_json(data)


def test_faults_defaults_and_fixed_surfaces():
    limited = fault_from_json({"fault": "rate_limit", "client_id": "a", "count": 2})
    assert (limited.retry_after_s, limited.remaining, limited.on) == (1, 2, Surface.FHIR)
    revoked = fault_from_json({"fault": "refresh_revoked", "on": "fhir"})
    assert revoked.on is Surface.TOKEN
    assert fault_from_json({"fault": "token_expired"}).on is Surface.FHIR
    for token_fault in ("refresh_id_token_no_aud", "refresh_id_token_other_user"):
        assert fault_from_json({"fault": token_fault, "on": "fhir"}).on is Surface.TOKEN
    assert fault_from_json({"fault": "sixty_second_tokens"}).on is Surface.TOKEN
    assert fault_from_json({"fault": "slow", "delay": 0.5}).as_json()["fault"] == "slow"


def test_faults_next_link_fails_answers_500_unless_404_is_asked():
    failing = fault_from_json({"fault": "next_link_fails", "resource_type": "Condition"})
    assert (failing.status, failing.on, failing.resource_type) == (500, Surface.FHIR, "Condition")
    gone = fault_from_json(
        {"fault": "next_link_fails", "resource_type": "Condition", "status": 404}
    )
    assert gone.status == 404 and gone.as_json()["status"] == 404
    assert fault_from_json({"fault": "server_error"}).status is None


def _take(
    registry: FaultRegistry, kind: FaultKind, client_id: str = "a", launch: str | None = None
) -> Fault | None:
    return registry.take((kind,), on=Surface.FHIR, client_id=client_id, launch=launch)


def test_faults_counted_fault_strikes_k_calls_then_stops():
    registry = FaultRegistry()
    registry.add(fault_from_json({"fault": "rate_limit", "client_id": "a", "count": 2}))
    assert _take(registry, FaultKind.RATE_LIMIT) is not None
    assert _take(registry, FaultKind.RATE_LIMIT) is not None
    assert _take(registry, FaultKind.RATE_LIMIT) is None
    assert registry.all() == []


def test_faults_match_client_launch_or_everyone():
    registry = FaultRegistry()
    registry.add(fault_from_json({"fault": "server_error", "client_id": "a"}))
    registry.add(fault_from_json({"fault": "unavailable", "launch": "L1"}))
    registry.add(fault_from_json({"fault": "token_expired"}))
    assert _take(registry, FaultKind.SERVER_ERROR, client_id="b") is None
    assert _take(registry, FaultKind.SERVER_ERROR, client_id="a") is not None
    assert _take(registry, FaultKind.UNAVAILABLE, launch="L2") is None
    assert _take(registry, FaultKind.UNAVAILABLE, launch="L1") is not None
    assert _take(registry, FaultKind.TOKEN_EXPIRED, client_id="z") is not None
    token_side = registry.take(
        (FaultKind.SERVER_ERROR,), on=Surface.TOKEN, client_id="a", launch=None
    )
    assert token_side is None


def test_faults_clear_by_client_or_all():
    registry = FaultRegistry()
    registry.add(fault_from_json({"fault": "server_error", "client_id": "a"}))
    registry.add(fault_from_json({"fault": "server_error", "client_id": "b"}))
    assert registry.clear(client_id="a") == 1
    assert [f.client_id for f in registry.all()] == ["b"]
    assert registry.clear() == 1


def test_faults_answer_faults_strike_only_their_resource_type():
    registry = FaultRegistry()
    registry.add(
        fault_from_json(
            {
                "fault": "malformed_searchset",
                "resource_type": "Condition",
                "variant": "null_resource",
            }
        )
    )
    registry.add(fault_from_json({"fault": "patient_other_id", "answer_id": "sbx-mild"}))

    def take(kind: FaultKind, resource_type: str) -> Fault | None:
        return registry.take(
            (kind,), on=Surface.FHIR, client_id="a", launch=None, resource_type=resource_type
        )

    assert take(FaultKind.MALFORMED_SEARCHSET, "Observation") is None
    found = take(FaultKind.MALFORMED_SEARCHSET, "Condition")
    assert found is not None and found.variant is Variant.NULL_RESOURCE
    assert found.as_json()["resource_type"] == "Condition"
    other = take(FaultKind.PATIENT_OTHER_ID, "Patient")
    assert other is not None and other.answer_id == "sbx-mild"
