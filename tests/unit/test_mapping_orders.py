"""Golden cases: clozapine MedicationRequests to ClozapineOrder facts (medication, period, people)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clozapine.facts import ClozapineOrder, PatientFacts
from clozapine.treatment import TreatmentEpisode, current_order
from fhir_mappings import MappingSettings, patient_facts_from_bundle
from fhir_mappings.dates import add_months

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CLOZAPINE_25 = {"coding": [{"system": RXNORM, "code": "197536", "display": "clozapine 25 MG"}]}
OLANZAPINE = {"coding": [{"system": RXNORM, "code": "314154", "display": "olanzapine 5 MG"}]}
CLOZAPINE_CODES = [
    "2626",
    "197536",
    "429212",
    "197535",
    "309374",
    "721773",
    "476179",
    "476177",
    "1006801",
    "996921",
    "1369825",
    "104775",
    "104776",
    "1369831",
]


def request(
    status: Any = "active",
    *,
    req_id: str = "mr-1",
    start: str | None = "2026-09-01",
    **fields: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": req_id,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": CLOZAPINE_25,
        "subject": {"reference": "Patient/pt-1"},
        "authoredOn": "2026-08-30",
    }
    if start is not None:
        resource["dispenseRequest"] = {"validityPeriod": {"start": start}}
    for key, value in fields.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def facts(*resources: dict[str, Any], entries: list[dict[str, Any]] | None = None) -> PatientFacts:
    bundle_entries = [{"resource": {"resourceType": "Patient", "id": "pt-1"}}]
    bundle_entries += [{"resource": resource} for resource in resources]
    bundle_entries += entries or []
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": bundle_entries}
    [only] = patient_facts_from_bundle(bundle)
    return only


def only_order(*resources: dict[str, Any], **kw: Any) -> ClozapineOrder:
    [order] = facts(*resources, **kw).orders
    return order


def dosage(*, bounds: dict[str, Any] | None = None, duration: Any = None) -> dict[str, Any]:
    repeat: dict[str, Any] = {}
    if bounds is not None:
        repeat["boundsPeriod"] = bounds
    if duration is not None:
        repeat["boundsDuration"] = duration
    return {"text": "25 mg at bedtime", "timing": {"repeat": repeat}}


def days(value: Any, unit: str = "d", field: str = "code") -> dict[str, Any]:
    return {"value": value, field: unit, "system": "http://unitsofmeasure.org"}


# Which orders are clozapine -------------------------------------------------------------------


@pytest.mark.parametrize("code", CLOZAPINE_CODES)
@pytest.mark.parametrize("system", [RXNORM, None])
def test_medication_rxnorm_clozapine_code_counts(code, system):
    coding = {"code": code} if system is None else {"system": system, "code": code}
    assert only_order(request(medicationCodeableConcept={"coding": [coding]})).start_on


@pytest.mark.parametrize(
    "concept",
    [
        {"text": "CLOZAPINE 100 mg tablet"},
        {"text": "Clozaril"},
        {"coding": [{"system": "urn:local", "code": "9", "display": "FazaClo ODT 25 mg"}]},
        {"coding": [{"code": "x", "display": "versacloz 50 mg/mL"}]},
        {"coding": [{"system": RXNORM, "code": "314154", "display": "x"}], "text": "clozapine"},
    ],
)
def test_medication_name_fallback_counts(concept):
    assert only_order(request(medicationCodeableConcept=concept)).source == "MedicationRequest/mr-1"


@pytest.mark.parametrize(
    "concept",
    [
        OLANZAPINE,
        {"coding": [{"system": "http://snomed.info/sct", "code": "2626"}]},
        {"coding": [{"system": RXNORM, "code": 2626}]},
        {"text": "quetiapine"},
        {},
        "clozapine",
        None,
    ],
)
def test_medication_other_medicines_are_not_clozapine(concept):
    assert facts(request(medicationCodeableConcept=concept)).orders == ()


def test_medication_contained_medication_counts():
    resource = request(
        medicationCodeableConcept=None,
        medicationReference={"reference": "#med"},
        contained=[{"resourceType": "Medication", "id": "med", "code": CLOZAPINE_25}],
    )
    assert only_order(resource).start_on == date(2026, 9, 1)


def test_medication_contained_medication_named_by_text_counts():
    resource = request(
        medicationCodeableConcept=None,
        medicationReference={"reference": "#m"},
        contained=[{"resourceType": "Medication", "id": "m", "code": {"text": "Clozapine ODT"}}],
    )
    assert len(facts(resource).orders) == 1


def test_medication_contained_other_medication_is_not_clozapine():
    resource = request(
        medicationCodeableConcept=None,
        medicationReference={"reference": "#med"},
        contained=[{"resourceType": "Medication", "id": "med", "code": OLANZAPINE}],
    )
    assert facts(resource).orders == ()


def test_medication_ingredient_clozapine_counts():
    medication = {
        "resourceType": "Medication",
        "id": "compound",
        "code": {"text": "compounded suspension"},
        "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "2626"}]}}],
    }
    resource = request(
        medicationCodeableConcept=None,
        medicationReference={"reference": "#compound"},
        contained=[medication],
    )
    assert len(facts(resource).orders) == 1


@pytest.mark.parametrize(
    ("reference", "full_url"),
    [
        ("Medication/med-9", "https://ehr.example/fhir/Medication/med-9"),
        ("https://ehr.example/fhir/Medication/med-9", "https://ehr.example/fhir/Medication/med-9"),
        ("https://other.example/r4/Medication/med-9/_history/3", None),
        (
            "urn:uuid:5d0a5c1e-1b1f-4c42-9a8e-6b1d1e0f0a01",
            "urn:uuid:5d0a5c1e-1b1f-4c42-9a8e-6b1d1e0f0a01",
        ),
    ],
)
def test_medication_referenced_in_bundle_counts(reference, full_url):
    medication = {"resourceType": "Medication", "id": "med-9", "code": CLOZAPINE_25}
    entry: dict[str, Any] = {"resource": medication}
    if full_url is not None:
        entry["fullUrl"] = full_url
    resource = request(medicationCodeableConcept=None, medicationReference={"reference": reference})
    assert len(facts(resource, entries=[entry]).orders) == 1


def test_medication_reference_not_in_bundle_falls_back_to_its_display():
    named = {"reference": "Medication/elsewhere", "display": "clozapine 100 mg tablet"}
    unnamed = {"reference": "Medication/elsewhere"}
    assert (
        len(facts(request(medicationCodeableConcept=None, medicationReference=named)).orders) == 1
    )
    assert facts(request(medicationCodeableConcept=None, medicationReference=unnamed)).orders == ()


# Statuses -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "on-hold", "completed", "stopped", " Active "])
def test_status_counting_order_statuses(status):
    assert len(facts(request(status)).orders) == 1


@pytest.mark.parametrize(
    "status", ["draft", "cancelled", "entered-in-error", "entered-in-error ", "unknown", None, 3]
)
def test_status_other_order_statuses_are_ignored(status):
    result = facts(request(status))
    assert (result.orders, result.notes) == ((), ())


# Periods --------------------------------------------------------------------------------------

START = "2026-09-01"


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        # validityPeriod start and end
        (
            "active",
            {"dispenseRequest": {"validityPeriod": {"start": START, "end": "2026-10-01"}}},
            ("2026-09-01", "2026-10-01"),
        ),
        # nothing gives an end: ongoing when active or on hold, the start date only otherwise
        ("active", {}, ("2026-09-01", None)),
        ("on-hold", {}, ("2026-09-01", None)),
        ("completed", {}, ("2026-09-01", "2026-09-01")),
        ("stopped", {}, ("2026-09-01", "2026-09-01")),
        # the latest end wins
        (
            "completed",
            {
                "dispenseRequest": {"validityPeriod": {"start": START, "end": "2026-09-10"}},
                "dosageInstruction": [dosage(bounds={"start": START, "end": "2026-12-31"})],
            },
            ("2026-09-01", "2026-12-31"),
        ),
        (
            "completed",
            {
                "dispenseRequest": {"validityPeriod": {"start": START, "end": "2027-01-05"}},
                "dosageInstruction": [dosage(bounds={"start": START, "end": "2026-12-31"})],
            },
            ("2026-09-01", "2027-01-05"),
        ),
        # a boundsPeriod with a start and no end keeps an active order ongoing
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": START, "end": "2026-09-10"}},
                "dosageInstruction": [dosage(bounds={"start": "2026-09-01T21:00:00-05:00"})],
            },
            ("2026-09-01", None),
        ),
        (
            "stopped",
            {
                "dispenseRequest": {"validityPeriod": {"start": START, "end": "2026-09-10"}},
                "dosageInstruction": [dosage(bounds={"start": "2026-09-01T21:00:00-05:00"})],
            },
            ("2026-09-01", "2026-09-10"),
        ),
        # boundsDuration from the order's start
        (
            "completed",
            {"dosageInstruction": [dosage(duration=days(14))]},
            ("2026-09-01", "2026-09-15"),
        ),
        (
            "active",
            {"dosageInstruction": [dosage(duration=days(2, "wk"))]},
            ("2026-09-01", "2026-09-15"),
        ),
        (
            "active",
            {"dosageInstruction": [dosage(duration=days(1.5))]},
            ("2026-09-01", "2026-09-03"),
        ),
        (
            "active",
            {"dosageInstruction": [dosage(duration=days(14, "d", "unit"))]},
            ("2026-09-01", "2026-09-15"),
        ),
        # expectedSupplyDuration x (1 + numberOfRepeatsAllowed)
        (
            "completed",
            {
                "dispenseRequest": {
                    "validityPeriod": {"start": START},
                    "expectedSupplyDuration": days(30),
                    "numberOfRepeatsAllowed": 2,
                }
            },
            ("2026-09-01", "2026-11-30"),
        ),
        (
            "completed",
            {
                "dispenseRequest": {
                    "validityPeriod": {"start": START},
                    "expectedSupplyDuration": days(28),
                }
            },
            ("2026-09-01", "2026-09-29"),
        ),
        (
            "completed",
            {
                "dispenseRequest": {
                    "validityPeriod": {"start": START},
                    "expectedSupplyDuration": days(1, "mo"),
                    "numberOfRepeatsAllowed": 5,
                }
            },
            ("2026-09-01", "2027-03-01"),
        ),
        (
            "completed",
            {
                "dispenseRequest": {
                    "validityPeriod": {"start": START},
                    "expectedSupplyDuration": days(7),
                    "numberOfRepeatsAllowed": "junk",
                }
            },
            ("2026-09-01", "2026-09-08"),
        ),
        # calendar months and years, clamped to the month's end
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": "2026-01-31"}},
                "dosageInstruction": [dosage(duration=days(1, "mo"))],
            },
            ("2026-01-31", "2026-02-28"),
        ),
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": "2028-01-31"}},
                "dosageInstruction": [dosage(duration=days(1, "mo"))],
            },
            ("2028-01-31", "2028-02-29"),
        ),
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": "2028-02-29"}},
                "dosageInstruction": [dosage(duration=days(1, "a"))],
            },
            ("2028-02-29", "2029-02-28"),
        ),
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": "2026-10-31"}},
                "dosageInstruction": [dosage(duration=days(4, "mo"))],
            },
            ("2026-10-31", "2027-02-28"),
        ),
        # any other duration unit gives no end
        ("active", {"dosageInstruction": [dosage(duration=days(30, "h"))]}, ("2026-09-01", None)),
        (
            "active",
            {"dosageInstruction": [dosage(duration=days(30, "days", "unit"))]},
            ("2026-09-01", None),
        ),
        ("active", {"dosageInstruction": [dosage(duration=days(1, "A"))]}, ("2026-09-01", None)),
        (
            "completed",
            {"dosageInstruction": [dosage(duration=days(30, "h"))]},
            ("2026-09-01", "2026-09-01"),
        ),
        ("active", {"dosageInstruction": [dosage(duration=days(1e300))]}, ("2026-09-01", None)),
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": "9999-12-01"}},
                "dosageInstruction": [dosage(duration=days(2, "mo"))],
            },
            ("9999-12-01", None),
        ),
        (
            "active",
            {
                "dispenseRequest": {"validityPeriod": {"start": "9999-12-01"}},
                "dosageInstruction": [dosage(duration=days(90))],
            },
            ("9999-12-01", None),
        ),
        # an end before the start: the start date only
        (
            "active",
            {"dispenseRequest": {"validityPeriod": {"start": START, "end": "2026-08-01"}}},
            ("2026-09-01", "2026-09-01"),
        ),
        (
            "completed",
            {"dispenseRequest": {"validityPeriod": {"start": START, "end": "2026-08-01"}}},
            ("2026-09-01", "2026-09-01"),
        ),
        (
            "active",
            {"dosageInstruction": [dosage(duration=days(-10))]},
            ("2026-09-01", "2026-09-01"),
        ),
    ],
)
def test_period_end_rules(status, fields, expected):
    order = only_order(request(status, **fields))
    start_on, end_on = expected
    assert order.start_on == date.fromisoformat(start_on)
    assert order.end_on == (date.fromisoformat(end_on) if end_on else None)


@pytest.mark.parametrize(
    ("fields", "expected_start"),
    [
        (
            {"dispenseRequest": {"validityPeriod": {"start": "2026-09-02T09:45:15.000-05:00"}}},
            "2026-09-02",
        ),
        (
            {
                "dispenseRequest": {"validityPeriod": {"end": "2026-12-01"}},
                "dosageInstruction": [
                    dosage(bounds={"start": "2026-09-20"}),
                    dosage(bounds={"start": "2026-09-05T23:30:00-08:00"}),
                ],
            },
            "2026-09-05",
        ),
        ({"dispenseRequest": {}}, "2026-08-30"),
        ({"dispenseRequest": None}, "2026-08-30"),
        ({"dispenseRequest": {"validityPeriod": {"start": "2026-09"}}}, "2026-08-30"),
    ],
)
def test_period_start_rules(fields, expected_start):
    assert only_order(request(**fields)).start_on == date.fromisoformat(expected_start)


def test_period_dates_are_the_date_part_as_written_whatever_the_zone():
    resource = request(
        dispenseRequest={"validityPeriod": {"start": "2026-09-02T21:00:00.000-05:00"}},
        authoredOn="2026-09-02T23:45:15.000-05:00",
    )
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "Patient", "id": "pt-1"}}, {"resource": resource}],
    }
    settings = MappingSettings(timezone=ZoneInfo("Asia/Tokyo"))
    [result] = patient_facts_from_bundle(bundle, settings)
    [order] = result.orders
    assert (order.start_on, order.authored_on) == (date(2026, 9, 2), date(2026, 9, 2))


def test_period_undated_order_is_a_data_note():
    result = facts(request(start=None, authoredOn=None))
    assert result.orders == ()
    [note] = result.notes
    assert note.resource == "MedicationRequest/mr-1"
    assert "no readable start" in note.reason


def test_period_unreadable_date_is_noted_and_left_out():
    resource = request(dispenseRequest={"validityPeriod": {"start": START, "end": "2026-13-40"}})
    result = facts(resource)
    [order] = result.orders
    assert (order.start_on, order.end_on) == (date(2026, 9, 1), None)
    [note] = result.notes
    assert "validityPeriod.end" in note.reason


def test_period_authored_on_is_kept():
    assert only_order(request()).authored_on == date(2026, 8, 30)
    assert only_order(request(authoredOn=None)).authored_on is None


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), 12, date(2027, 5, 31)),
    ],
)
def test_period_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


# Prescriber and pharmacy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requester", "entries", "expected"),
    [
        ({"reference": "Practitioner/dr-a"}, [], "Practitioner/dr-a"),
        (
            {"reference": "https://ehr.example/fhir/Practitioner/dr-a/_history/2"},
            [],
            "Practitioner/dr-a",
        ),
        (
            {"reference": "urn:uuid:0b6e5d43-0000-4000-8000-000000000001"},
            [
                {
                    "fullUrl": "urn:uuid:0b6e5d43-0000-4000-8000-000000000001",
                    "resource": {"resourceType": "Practitioner", "id": "dr-u"},
                }
            ],
            "Practitioner/dr-u",
        ),
        (
            {"reference": "PractitionerRole/role-1"},
            [
                {
                    "resource": {
                        "resourceType": "PractitionerRole",
                        "id": "role-1",
                        "practitioner": {"reference": "Practitioner/dr-r"},
                    }
                }
            ],
            "Practitioner/dr-r",
        ),
        (
            {"reference": "urn:uuid:role"},
            [
                {
                    "fullUrl": "urn:uuid:role",
                    "resource": {
                        "resourceType": "PractitionerRole",
                        "practitioner": {"reference": "urn:uuid:prac"},
                    },
                },
                {
                    "fullUrl": "urn:uuid:prac",
                    "resource": {"resourceType": "Practitioner", "id": "dr-p"},
                },
            ],
            "Practitioner/dr-p",
        ),
        ({"reference": "PractitionerRole/not-here"}, [], None),
        ({"reference": "urn:uuid:not-here"}, [], None),
        ({"reference": "#not-contained"}, [], None),
        ({"display": "Dr A"}, [], None),
        (None, [], None),
    ],
)
def test_prescriber_is_the_requester_or_its_role_practitioner(requester, entries, expected):
    assert only_order(request(requester=requester), entries=entries).prescriber == expected


@pytest.mark.parametrize(
    ("requester", "entries", "unidentified"),
    [
        ({"reference": "Practitioner/dr-a"}, [], False),
        (None, [], False),  # no requester: no prescriber finding at all
        ({"reference": "PractitionerRole/not-here"}, [], True),
        ({"reference": "urn:uuid:not-here"}, [], True),
        ({"reference": "#not-contained"}, [], True),
        ({"display": "Dr A"}, [], True),
        ({"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1"}}, [], True),
        ({"reference": "Organization/clinic"}, [], True),
        (
            {"reference": "PractitionerRole/r"},
            [{"resource": {"resourceType": "PractitionerRole", "id": "r"}}],
            True,  # a role that names no practitioner
        ),
        (
            {"reference": "PractitionerRole/r"},
            [
                {
                    "resource": {
                        "resourceType": "PractitionerRole",
                        "id": "r",
                        "practitioner": {"display": "Dr R"},
                    }
                }
            ],
            True,
        ),
        (
            {"reference": "urn:uuid:p"},
            [{"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Practitioner"}}],
            False,  # resolves to a Practitioner, even one without an id
        ),
    ],
)
def test_prescriber_unidentified_when_the_requester_resolves_to_no_practitioner(
    requester, entries, unidentified
):
    order = only_order(request(requester=requester), entries=entries)
    assert order.prescriber_unidentified is unidentified
    assert (order.prescriber is None) is (unidentified or requester is None)


def test_prescriber_contained_practitioner_role_counts_as_its_practitioner():
    role = {
        "resourceType": "PractitionerRole",
        "id": "r",
        "practitioner": {"reference": "Practitioner/dr-c"},
    }
    resource = request(requester={"reference": "#r"}, contained=[role])
    assert only_order(resource).prescriber == "Practitioner/dr-c"


@pytest.mark.parametrize(
    ("performer", "entries", "expected"),
    [
        ({"reference": "Organization/ph-1"}, [], "Organization/ph-1"),
        (
            {"reference": "urn:uuid:ph"},
            [
                {
                    "fullUrl": "urn:uuid:ph",
                    "resource": {"resourceType": "Organization", "id": "ph-2"},
                }
            ],
            "Organization/ph-2",
        ),
        (
            {"reference": "https://ehr.example/fhir/Organization/ph-3"},
            [],
            "Organization/ph-3",
        ),
        (None, [], None),
    ],
)
def test_pharmacy_is_the_dispense_performer(performer, entries, expected):
    dispense: dict[str, Any] = {"validityPeriod": {"start": START}}
    if performer is not None:
        dispense["performer"] = performer
    assert only_order(request(dispenseRequest=dispense), entries=entries).pharmacy == expected


# Order ties in the organisation's zone (ruling "Order ties") -----------------------------------

CHICAGO = ZoneInfo("America/Chicago")  # 2026-09-01 is in daylight time: UTC-05:00


def _chicago_orders(*resources: dict[str, Any]) -> tuple[ClozapineOrder, ...]:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Patient", "id": "pt-1"}}]
        + [{"resource": resource} for resource in resources],
    }
    [result] = patient_facts_from_bundle(bundle, MappingSettings(timezone=CHICAGO))
    return result.orders


def _tie_winner(*resources: dict[str, Any]) -> str | None:
    orders = _chicago_orders(*resources)
    assert {o.start_on for o in orders} == {date(2026, 9, 1)}  # the same start: a tie to break
    episode = TreatmentEpisode(start_on=date(2026, 9, 1), end_on=None, orders=orders)
    return current_order(episode, date(2026, 9, 15)).order_id


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("2026-09-01", datetime(2026, 9, 1, 5, 0, tzinfo=UTC)),  # 00:00 in Chicago
        ("2026-09-01T03:00:00", datetime(2026, 9, 1, 8, 0, tzinfo=UTC)),  # local time
        ("2026-09-01T03:00:00Z", datetime(2026, 9, 1, 3, 0, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, 6, 0, tzinfo=UTC)),  # standard time: UTC-06:00
    ],
)
def test_ties_authored_on_is_an_instant_in_the_organisation_zone(written, instant):
    [order] = _chicago_orders(request(authoredOn=written))
    assert order.authored_at == instant


@pytest.mark.parametrize(
    ("date_only_id", "timed_id", "timed", "winner"),
    [
        # 02:00Z is 21:00 the evening before in Chicago: the date-only order is the later one,
        # though its id is the lower (at 00:00 UTC it would have lost).
        ("mr-a", "mr-b", "2026-09-01T02:00:00Z", "mr-a"),
        # 03:00 local is 08:00Z, after the date-only order's 05:00Z (read as UTC, it would lose).
        ("mr-b", "mr-a", "2026-09-01T03:00:00", "mr-a"),
        ("mr-b", "mr-a", "2026-09-01T04:30:00Z", "mr-b"),  # 23:30 the day before in Chicago
    ],
)
def test_ties_date_only_and_timed_orders_compare_as_instants(date_only_id, timed_id, timed, winner):
    date_only = request(req_id=date_only_id, authoredOn="2026-09-01")
    timed_order = request(req_id=timed_id, authoredOn=timed)
    assert _tie_winner(date_only, timed_order) == winner
    assert _tie_winner(timed_order, date_only) == winner  # never the place in the Bundle


@pytest.mark.parametrize(
    "timed", ["2026-09-01T00:00:00", "2026-09-01T00:00:00-05:00", "2026-09-01T05:00:00Z"]
)
@pytest.mark.parametrize(("date_only_id", "timed_id"), [("mr-a", "mr-b"), ("mr-b", "mr-a")])
def test_ties_same_instant_goes_to_the_greater_id(timed, date_only_id, timed_id):
    date_only = request(req_id=date_only_id, authoredOn="2026-09-01")
    timed_order = request(req_id=timed_id, authoredOn=timed)
    assert _tie_winner(date_only, timed_order) == "mr-b"
    assert _tie_winner(timed_order, date_only) == "mr-b"
