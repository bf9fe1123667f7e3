"""Vendor profiles: Epic's required Observation category, Oracle's _count cap and missing types."""

from __future__ import annotations

import pytest

from sandbox.ehr import vendors
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


@pytest.mark.parametrize(
    ("vendor", "sent", "refused"),
    [
        ("epic", "app-1", False),
        ("epic", None, True),
        ("epic", "", True),
        ("epic", "app-2", True),
        ("generic", None, False),
        ("oracle", None, False),
    ],
)
def test_epic_needs_the_clients_id_in_epic_client_id(vendor, sent, refused) -> None:
    refusal = vendors.client_header_refusal(vendor, sent, "app-1")
    assert (refusal is not None) is refused
    if refusal is not None:
        assert refusal.status == 400 and "Epic-Client-ID" in refusal.message


@pytest.mark.parametrize(
    ("vendor", "software", "publisher"),
    [
        ("epic", "Epic", "Epic Systems Corporation"),
        ("oracle", "Oracle Health Millennium Platform", "Oracle Health"),
        ("generic", "engine", "engine's"),
    ],
)
def test_capability_statement_names_each_vendors_software(vendor, software, publisher) -> None:
    engine = {"software": {"name": "engine"}, "publisher": "engine's", "rest": []}
    adjusted = vendors.adjust_capabilities(vendor, engine)
    assert (adjusted["software"]["name"], adjusted["publisher"]) == (software, publisher)
