"""Capability decisions: what the EHR has and the sign-in allows decides what the app writes."""

from __future__ import annotations

import pytest

from smartapp.writeback import ServerCapabilities, decide, may_update
from smartapp.writeback.capability import server_capabilities

PREFERRED = ("Flag", "Task", "DocumentReference")
ALL = frozenset({"Flag", "Task", "DocumentReference", "Communication"})
WRITE_ALL = "patient/Flag.cru patient/Task.cru patient/DocumentReference.c patient/Communication.c"
READ_ONLY = "patient/*.rs"
NO_FLAG = "patient/Task.cru patient/DocumentReference.c"
NOTE_ONLY = "patient/DocumentReference.c"


@pytest.mark.parametrize(
    ("server_types", "scopes", "preferred", "written", "said"),
    [
        (ALL, WRITE_ALL, PREFERRED, "Flag", ""),
        (ALL, NO_FLAG, PREFERRED, "Task", "did not grant permission to create Flag"),
        (ALL - {"Flag", "Task"}, WRITE_ALL, PREFERRED, "DocumentReference", "has no Task"),
        (ALL, NOTE_ONLY, PREFERRED, "DocumentReference", "create Task"),
        (ALL, READ_ONLY, PREFERRED, None, "cannot write to this EHR's chart"),
        (ALL - {"Flag", "Task"}, "patient/Flag.cru", PREFERRED, None, "has no Flag"),
        (ALL, WRITE_ALL, ("Observation", "Flag"), "Flag", "does not write Observation"),
        (ALL - {"Flag"}, WRITE_ALL, ("Flag", "Communication"), "Communication", "has no Flag"),
        (ALL, WRITE_ALL, (), None, "lists no write-back resources"),
        (None, WRITE_ALL, PREFERRED, "Flag", ""),
        (None, READ_ONLY, PREFERRED, None, "permission to create DocumentReference"),
        (ALL, "user/*.cruds", PREFERRED, "Flag", ""),
        (ALL, "patient/Flag.write", PREFERRED, "Flag", ""),
        (ALL, "patient/Flag.read", PREFERRED, None, "permission to create Flag"),
    ],
)
def test_capability_decision_table(server_types, scopes, preferred, written, said) -> None:
    server = ServerCapabilities(server_types)
    decision = decide(preferred, server, scopes.split())
    assert decision.resource_type == written
    assert decision.can_write is (written is not None)
    assert said in decision.explanation


def test_capability_vendor_absent_types_win_over_an_unread_statement() -> None:
    server = ServerCapabilities(None, absent=frozenset({"Flag", "Task"}))
    assert decide(PREFERRED, server, WRITE_ALL.split()).resource_type == "DocumentReference"


def test_capability_statement_gives_types_and_conditional_create() -> None:
    statement = {
        "resourceType": "CapabilityStatement",
        "rest": [
            {
                "resource": [
                    {"type": "Flag", "conditionalCreate": True},
                    {"type": "Task"},
                    "junk",
                ]
            }
        ],
    }
    server = server_capabilities(statement)
    assert server.types == frozenset({"Flag", "Task"})
    assert server.conditional_create == frozenset({"Flag"})
    assert decide(PREFERRED, server, WRITE_ALL.split()).conditional is True
    assert decide(("Task",), server, WRITE_ALL.split()).conditional is False
    assert server_capabilities(None).types is None


def test_capability_fallback_is_explained() -> None:
    server = ServerCapabilities(ALL - {"Flag", "Task"})
    decision = decide(PREFERRED, server, WRITE_ALL.split())
    assert decision.explanation == (
        "the EHR's CapabilityStatement has no Flag resource; the EHR's CapabilityStatement has no"
        " Task resource; so the app writes"
        " a clinical note (DocumentReference) instead."
    )


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [("patient/Flag.cru", True), ("patient/Flag.cu", False), ("patient/*.rs patient/Flag.u", True)],
)
def test_capability_retiring_needs_read_and_update(scopes, allowed) -> None:
    assert may_update(scopes.split(), "Flag") is allowed


def test_capability_vendor_profile_is_named_when_it_removes_a_type() -> None:
    oracle = server_capabilities(
        {"rest": [{"resource": [{"type": "Flag"}, {"type": "DocumentReference"}]}]},
        absent={"Flag", "Task"},
        vendor="Oracle Health",
    )
    decision = decide(PREFERRED, oracle, WRITE_ALL.split())
    assert decision.resource_type == "DocumentReference"
    assert decision.passed_over == (
        "Oracle Health's FHIR API has no Flag resource (the app's Oracle Health profile)",
        "Oracle Health's FHIR API has no Task resource (the app's Oracle Health profile)",
    )
    statement_only = server_capabilities({"rest": [{"resource": [{"type": "Task"}]}]})
    assert decide(PREFERRED, statement_only, WRITE_ALL.split()).passed_over == (
        "the EHR's CapabilityStatement has no Flag resource",
    )
