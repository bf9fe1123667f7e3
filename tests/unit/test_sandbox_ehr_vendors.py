"""Vendor profiles: Epic's required Observation category, Oracle's _count cap and missing types."""

from __future__ import annotations

import pytest

from sandbox.ehr.vendors import VendorOverrides, adjust_capabilities, adjust_params, refuse


@pytest.mark.parametrize(
    ("vendor", "resource_type", "is_search", "params", "status"),
    [
        ("epic", "Observation", True, {"patient": ["p1"]}, 400),
        ("epic", "Observation", True, {"patient": ["p1"], "category": ["laboratory"]}, None),
        ("epic", "Observation", True, {"category:text": ["lab"]}, None),
        ("epic", "Observation", False, {}, None),
        ("epic", "Flag", True, {}, None),
        ("oracle", "Flag", True, {}, 404),
        ("oracle", "Task", False, {}, 404),
        ("oracle", "Observation", True, {}, None),
        ("generic", "Observation", True, {}, None),
    ],
)
def test_vendors_refuse(vendor, resource_type, is_search, params, status):
    refusal = refuse(vendor, resource_type, is_search, params)
    assert (refusal.status if refusal else None) == status


def test_vendors_oracle_caps_count():
    assert adjust_params("oracle", {"_count": ["500"], "patient": ["p1"]}) == {
        "_count": ["200"],
        "patient": ["p1"],
    }
    assert adjust_params("oracle", {"_count": ["50"]}) == {"_count": ["50"]}
    assert adjust_params("generic", {"_count": ["500"]}) == {"_count": ["500"]}


def test_vendors_oracle_capabilities_drop_flag_and_task():
    capability = {"rest": [{"resource": [{"type": "Flag"}, {"type": "Task"}, {"type": "Patient"}]}]}
    adjusted = adjust_capabilities("oracle", capability)
    assert [r["type"] for r in adjusted["rest"][0]["resource"]] == ["Patient"]


@pytest.mark.parametrize(
    ("vendor", "includes"),
    [
        ("generic", ["MedicationRequest:medication", "MedicationRequest:requester"]),
        ("epic", None),
        ("oracle", None),
    ],
)
def test_vendors_capabilities_list_the_includes_the_profile_offers(vendor, includes):
    capability = {"rest": [{"resource": [{"type": "MedicationRequest"}, {"type": "Patient"}]}]}
    resources = adjust_capabilities(vendor, capability)["rest"][0]["resource"]
    assert [r.get("searchInclude") for r in resources] == [includes, None]


def test_vendors_overrides_resolve_launch_then_client_then_default():
    overrides = VendorOverrides("generic")
    assert overrides.resolve(client_id="a", launch=None) == "generic"
    assert overrides.resolve(client_id="a", launch=None, client_vendor="oracle") == "oracle"
    overrides.set("epic", client_id="a")
    assert overrides.resolve(client_id="a", launch=None, client_vendor="oracle") == "epic"
    assert overrides.resolve(client_id="a", launch="L", launch_vendor="oracle") == "oracle"
    overrides.set("generic", launch="L")
    assert overrides.resolve(client_id="a", launch="L", launch_vendor="oracle") == "generic"
    with pytest.raises(ValueError, match="vendor"):
        overrides.set("cerner")
    overrides.reset("oracle")
    assert overrides.resolve(client_id="a", launch="L") == "oracle"
