"""What SMART v1 and v2 scopes grant, as a table; scope composition and v1 translation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from launch import TokenSet, granted, scopes_grant, to_v1
from launch.scopes import ScopeVersion, join_scopes, parse_resource_scope, split_scopes
from tests.unit.test_launch_fake_ehr import NOW

GRANTS = [
    # scopes, resource, interaction, granted?
    ("patient/Flag.cru", "Flag", "c", True),
    ("patient/Flag.cru", "Flag", "u", True),
    ("patient/Flag.cru", "Flag", "d", False),
    ("patient/Flag.cru", "Flag", "s", False),
    ("patient/Flag.cru", "Task", "c", False),
    ("patient/*.c", "Flag", "c", True),
    ("patient/*.rs", "Flag", "c", False),
    ("patient/*.rs", "Observation", "s", True),
    ("user/Observation.rs", "Observation", "r", True),
    ("system/*.cruds", "Task", "d", True),
    ("patient/Observation.rs?category=laboratory", "Observation", "s", True),
    ("patient/Flag.write", "Flag", "c", True),
    ("patient/Flag.write", "Flag", "u", True),
    ("patient/Flag.write", "Flag", "r", False),
    ("patient/Flag.read", "Flag", "r", True),
    ("patient/Flag.read", "Flag", "s", True),
    ("patient/Flag.read", "Flag", "c", False),
    ("patient/*.*", "Flag", "c", True),
    ("patient/*.*", "Condition", "s", True),
    ("user/*.read", "Patient", "r", True),
    ("user/*.read", "Patient", "c", False),
    ("patient/*.write", "DocumentReference", "c", True),
    ("launch openid fhirUser", "Patient", "r", False),
    ("patient/Flag.xyz", "Flag", "c", False),  # malformed: ignored
    ("patient/Flag.*?x=1", "Flag", "c", False),  # v1 has no queries
    ("practitioner/Flag.c", "Flag", "c", False),  # unknown context
    ("", "Flag", "r", False),
    ("patient/Patient.rs patient/Flag.c", "Flag", "c", True),
]


@pytest.mark.parametrize(("scopes", "resource", "interaction", "expected"), GRANTS)
def test_granted_answers_from_v1_and_v2_scopes(scopes, resource, interaction, expected) -> None:
    token_set = TokenSet(
        access_token="t",
        token_type="Bearer",
        expires_at=NOW + timedelta(minutes=5),
        scopes=split_scopes(scopes),
    )
    assert granted(token_set, resource, interaction) is expected


@pytest.mark.parametrize("interaction", ["", "x", "rs", "read", "C"])
def test_granted_refuses_an_unknown_interaction(interaction) -> None:
    with pytest.raises(ValueError, match="interaction"):
        scopes_grant(["patient/*.cruds"], "Flag", interaction)


def test_parse_resource_scope_keeps_version_and_query() -> None:
    scope = parse_resource_scope("patient/Observation.rs?category=laboratory")
    assert scope is not None
    assert scope.version is ScopeVersion.V2
    assert scope.query == "category=laboratory"
    assert scope.interactions == frozenset("rs")
    v1 = parse_resource_scope("user/*.read")
    assert v1 is not None and v1.version is ScopeVersion.V1
    assert parse_resource_scope("openid") is None
    assert parse_resource_scope("patient/Flag.rr") is None


def test_to_v1_translates_v2_resource_scopes_only() -> None:
    v1 = to_v1("launch openid patient/Patient.rs patient/Flag.cru patient/Flag.c user/Task.read")
    assert v1 == (
        "launch",
        "openid",
        "patient/Patient.read",
        "patient/Flag.read",
        "patient/Flag.write",
        "user/Task.read",
    )


def test_join_scopes_keeps_order_and_drops_duplicates() -> None:
    assert join_scopes("launch openid", ["openid", "fhirUser"], "  launch ") == (
        "launch openid fhirUser"
    )
