"""SMARTAPP_REGISTRY_ADMINS read as (EHR, user) pairs, and the launch's user checked against them."""

from __future__ import annotations

import pytest

from smartapp.settings import SettingsError
from smartapp.tenancy.admins import RegistryAdmins, user_at

A = "https://ehr-a.example.org/fhir"
B = "https://ehr-b.example.org/fhir"
NESTED = "https://ehr-a.example.org/fhir/tenant-2"


def test_admins_full_urls_name_their_ehr() -> None:
    admins = RegistryAdmins.from_setting([f"{A}/Practitioner/adm", f"{B}/Person/p1"], [A, B])
    assert admins.members == {(A, "Practitioner/adm"), (B, "Person/p1")}
    assert admins.includes(A, "Practitioner/adm")
    assert admins.includes(A, f"{A}/Practitioner/adm/_history/3")
    assert not admins.includes(B, "Practitioner/adm")  # the same id at the other EHR
    assert not admins.includes(B, f"{A}/Practitioner/adm")  # EHR B naming A's user
    assert not admins.includes(A, "Person/p1")
    assert not admins.includes(A, None) and not admins.includes(A, "")


def test_admins_relative_reference_means_the_only_issuer() -> None:
    admins = RegistryAdmins.from_setting(["Practitioner/adm"], [A])
    assert admins.members == {(A, "Practitioner/adm")}
    assert admins.includes(A, f"{A}/Practitioner/adm")
    assert not admins.includes(B, "Practitioner/adm")


def test_admins_longest_issuer_base_wins() -> None:
    assert user_at([A, NESTED], f"{NESTED}/Practitioner/x") == (NESTED, "Practitioner/x")
    assert user_at([A, NESTED], f"{A}/Practitioner/x") == (A, "Practitioner/x")
    assert user_at([A], "https://ehr-a.example.org/fhir2/Practitioner/x") is None


@pytest.mark.parametrize(
    ("entry", "issuers", "message"),
    [
        ("Practitioner/adm", [A, B], "does not say which EHR"),
        ("Practitioner/adm", [], "0 issuers"),
        ("https://elsewhere.example.org/fhir/Practitioner/adm", [A], "not a user"),
        (f"{A}/Practitioner", [A], "not a user"),
        (f"{A}/Practitioner/adm/extra", [A], "not a user"),
        ("adm", [A], "not a fhirUser reference"),
    ],
)
def test_admins_refuse_what_would_be_a_guess(entry, issuers, message) -> None:
    with pytest.raises(SettingsError, match=f"SMARTAPP_REGISTRY_ADMINS: .*{message}"):
        RegistryAdmins.from_setting([entry], issuers)
