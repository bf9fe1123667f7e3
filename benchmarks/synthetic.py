"""Synthetic patients for the benchmarks: 2-year weekly ANC histories with some low episodes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from clozapine import AncResult, ClozapineOrder, PatientFacts

AS_OF = date(2026, 11, 25)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def anc_values(rng: random.Random, count: int) -> list[int]:
    """Mostly normal values, with occasional mild, moderate or severe dips and recoveries.

    Per draw: severe 0.2 %, moderate 1 %, mild 3 %. Over two years of weekly draws about a fifth
    of the patients have had a severe value and most have had a mild one: far more low results
    than clozapine populations show (severe neutropenia under 1 %), so the low-result paths are
    exercised, not skipped.
    """
    values = []
    for _ in range(count):
        dip = rng.random()
        if dip < 0.002:
            values.append(rng.randint(300, 499))
        elif dip < 0.012:
            values.append(rng.randint(500, 999))
        elif dip < 0.042:
            values.append(rng.randint(1000, 1499))
        else:
            values.append(rng.randint(1500, 6000))
    return values


def patient_facts(seed: int, count: int = 110) -> PatientFacts:
    """Facts for one patient with `count` weekly ANCs ending a few days before AS_OF."""
    rng = random.Random(seed)
    last = AS_OF - timedelta(days=rng.randint(0, 9))
    ancs = []
    for index, value in enumerate(anc_values(rng, count)):
        on = last - timedelta(days=7 * (count - 1 - index))
        ancs.append(AncResult(value, on, datetime.combine(on, time(9), UTC)))
    start = last - timedelta(days=7 * count + 3)
    return PatientFacts.create(
        f"Patient/bench-{seed}",
        ben_documented=seed % 7 == 0,
        orders=[ClozapineOrder(start, None, start, "Practitioner/dr-a", "Organization/ph-1")],
        ancs=ancs,
    )


def patient_bundle(seed: int, count: int = 110) -> dict[str, Any]:
    """The same kind of patient as a vendor-shaped FHIR collection Bundle."""
    facts = patient_facts(seed, count)
    pid = facts.patient.split("/")[1]
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"urn:uuid:{pid}", "resource": {"resourceType": "Patient", "id": pid}},
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": f"{pid}-mr",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{pid}"},
                "authoredOn": facts.orders[0].start_on.isoformat(),
                "medicationCodeableConcept": {
                    "coding": [
                        {
                            "system": RXNORM,
                            "code": "197535",
                            "display": "clozapine 100 MG Oral Tablet",
                        }
                    ]
                },
                "dispenseRequest": {
                    "validityPeriod": {
                        "start": f"{facts.orders[0].start_on.isoformat()}T14:45:37.000Z"
                    }
                },
            }
        },
    ]
    for index, result in enumerate(facts.ancs):
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": f"{pid}-anc-{index}",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                }
                            ]
                        }
                    ],
                    "code": {
                        "coding": [
                            {
                                "system": "https://fhir.example.org/codeSet/72",
                                "code": "4218694",
                                "display": "Neutrophils Abs",
                                "userSelected": True,
                            },
                            {"system": "http://loinc.org", "code": "751-8"},
                        ]
                    },
                    "subject": {"reference": f"Patient/{pid}"},
                    "effectiveDateTime": result.collected_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "valueQuantity": {
                        "value": result.value_per_ul / 1000,
                        "unit": "x10(3)/mcL",
                        "system": "http://unitsofmeasure.org",
                        "code": "10*3/uL",
                    },
                }
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
