"""SMART v1 and v2 scope parsing, coverage and the subset a client may be granted."""

from __future__ import annotations

import pytest

from sandbox.ehr.scopes import (
    Interaction,
    allowed_subset,
    granting_scopes,
    parse_resource_scope,
    resource_scopes,
)


@pytest.mark.parametrize(
    ("text", "context", "resource_type", "permissions"),
    [
        ("patient/Observation.rs", "patient", "Observation", "rs"),
        ("patient/*.cruds", "patient", "*", "cruds"),
        ("user/Flag.c", "user", "Flag", "c"),
        ("system/Patient.r", "system", "Patient", "r"),
        ("patient/Observation.read", "patient", "Observation", "rs"),
        ("user/*.write", "user", "*", "cud"),
        ("patient/*.*", "patient", "*", "cruds"),
    ],
)
def test_scopes_parse_v1_and_v2(text, context, resource_type, permissions):
    scope = parse_resource_scope(text)
    assert scope is not None
    assert (scope.context, scope.resource_type) == (context, resource_type)
    assert scope.permissions == frozenset(permissions)


@pytest.mark.parametrize(
    "text",
    [
        "patient/Observation.sr",  # v2 letters out of order
        "patient/Observation.rr",  # repeated letter
        "patient/Observation.x",
        "patient/observation.rs",  # resource types start upper-case
        "practitioner/Observation.rs",
        "patient/Observation",
        "patient/Observation.read?category=laboratory",  # v1 had no filters
        "launch/patient",
        "",
    ],
)
def test_scopes_malformed_are_not_resource_scopes(text):
    assert parse_resource_scope(text) is None


def test_scopes_v2_query_is_kept():
    scope = parse_resource_scope("patient/Observation.rs?category=laboratory")
    assert scope is not None
    assert scope.query == (("category", "laboratory"),)


@pytest.mark.parametrize(
    ("requested", "registered", "granted"),
    [
        ("patient/Observation.rs", ["patient/*.rs"], ["patient/Observation.rs"]),
        ("patient/Flag.c", ["patient/*.rs"], []),
        ("patient/Flag.read", ["patient/*.rs"], ["patient/Flag.read"]),
        ("patient/Flag.write", ["patient/Flag.c"], []),
        ("user/*.rs", ["patient/*.rs"], []),
        ("launch openid fhirUser", ["launch", "openid"], ["launch", "openid"]),
        ("openid openid", ["openid"], ["openid"]),
        (
            "patient/Observation.rs?category=laboratory",
            ["patient/*.rs"],
            ["patient/Observation.rs?category=laboratory"],
        ),
        ("patient/Observation.rs", ["patient/Observation.rs?category=laboratory"], []),
        ("bogus", ["bogus"], []),
        (None, ["openid"], []),
    ],
)
def test_scopes_allowed_subset_grants_only_covered_scopes(requested, registered, granted):
    assert allowed_subset(requested, registered) == granted


def test_scopes_granting_finds_wildcard_and_exact():
    scopes = resource_scopes("launch patient/*.rs patient/Flag.c openid")
    assert [s.text for s in granting_scopes(scopes, "Flag", Interaction.CREATE)] == [
        "patient/Flag.c"
    ]
    assert [s.text for s in granting_scopes(scopes, "Flag", Interaction.READ)] == ["patient/*.rs"]
    assert granting_scopes(scopes, "Task", Interaction.CREATE) == []
