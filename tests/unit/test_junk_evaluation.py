"""Property: wrong types in every field never make the mapping, the registry or the engine raise.

In-process, not through the command's exit code: every Bundle the mapping accepts is evaluated
under every policy (and an organisation program), with and without a registry, and rendered as
JSON and as text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clozapine import (
    POLICIES,
    OrganisationProgram,
    Registry,
    RegistryFormatError,
    evaluate,
    evaluation_to_json,
    with_organisation_program,
)
from fhir_mappings import BundleError, patient_facts_from_bundle
from smartapp.commands.text_report import text_report
from tests.unit.test_mapping_junk import DATES, ENTRY, JUNK, OTHER, REFERENCES, SETTINGS, maybe

PROGRAM = OrganisationProgram(
    program_id="org",
    name="Org program",
    document="Org policy",
    enrollment_required=True,
    enrollment_renewal_days=365,
    certification_renewal_days=730,
    anc_dispense_window_days=7,
    writeback_findings=(),
)
POLICY_LIST = [*POLICIES.values(), with_organisation_program(POLICIES["us-label-2025"], PROGRAM)]
AS_OF_DATES = st.sampled_from([date(2018, 6, 1), date(2021, 12, 1), date(2026, 11, 25)])
REGISTRY_DATES = st.one_of(DATES, st.sampled_from(["2021-11-20", "2017-01-10", "2026-11-01"]))
STATUS = st.sampled_from(["active", "interrupted", "discontinued", "Active"])
RECORD = maybe(
    st.fixed_dictionaries(
        {
            "practitioner": maybe(st.sampled_from(["Practitioner/r", "Practitioner/dr-a"])),
            "organization": maybe(st.just("Organization/o")),
            "patient": maybe(st.sampled_from(["Patient/pt-1", "urn:uuid:p"])),
            "certified": maybe(REGISTRY_DATES),
            "enrolled": maybe(REGISTRY_DATES),
            "submitted": maybe(REGISTRY_DATES),
        },
        optional={
            "expires": maybe(REGISTRY_DATES),
            "status": maybe(STATUS),
            "prescriber": maybe(REFERENCES),
        },
    )
)
REGISTRY = maybe(
    st.fixed_dictionaries(
        {},
        optional={
            key: maybe(st.lists(RECORD, max_size=3))
            for key in ("prescribers", "pharmacies", "patients", "status_forms")
        },
    )
)


def registries(document: Any) -> list[Registry | None]:
    """The registry each policy would read from the document (None when it is malformed)."""
    read: list[Registry | None] = []
    for program_fields in (False, True):
        try:
            read.append(Registry.from_json(document, program_fields=program_fields))
        except RegistryFormatError as error:
            assert "\n" not in str(error)
            read.append(None)
    return read


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(ENTRY, max_size=8),
    patients=st.lists(maybe(OTHER), max_size=2),
    mapping_settings=SETTINGS,
    registry_json=REGISTRY,
    as_of=AS_OF_DATES,
)
def test_junk_in_every_field_never_raises_in_mapping_registry_or_engine(
    entries, patients, mapping_settings, registry_json, as_of
):
    first = {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "pt-1"}}
    others = [{"resource": patient} for patient in patients]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [first, *others, *entries]}
    try:
        everyone = patient_facts_from_bundle(bundle, mapping_settings)
    except BundleError:
        return
    rems_registry, program_registry = registries(registry_json)
    for facts in everyone:
        for policy in POLICY_LIST:
            registry = program_registry if policy.organisation else rems_registry
            for given_registry in (None, registry):
                evaluation = evaluate(facts, as_of, policy, given_registry)
                output = evaluation_to_json(evaluation)
                assert text_report(evaluation)
                if output["overall"] == "ok":
                    assert output["anc"] is not None


@settings(max_examples=150, deadline=None)
@given(document=st.one_of(JUNK, REGISTRY))
def test_junk_registry_is_read_or_malformed_never_an_error(document):
    rems, program = registries(document)
    if program is not None:
        assert rems is not None  # what the program reads is a superset of what REMS reads
