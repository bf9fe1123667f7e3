"""Builds the cohort as one FHIR R4 transaction Bundle, with a manifest describing each patient."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.patients import clinical, codes, staff
from sandbox.patients.chart import Chart
from sandbox.patients.cohort import SITUATIONS
from sandbox.patients.situation import Situation

FhirJson = dict[str, Any]

DEFAULT_SEED = 1
CAREGIVER = "Robin"  # every synthetic patient's caregiver is a relative of that name
# The Group a Bulk Data client exports (`Group/[id]/$export`): every patient with a clozapine order.
CLOZAPINE_GROUP_ID = "clozapine-patients"
_URN_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:clozapine-smartapp:sandbox")


def _days_ago(as_of: date, days: int, hour: int = 15) -> datetime:
    return datetime.combine(as_of - timedelta(days=days), time(hour), tzinfo=UTC)


def _chart(situation: Situation, index: int, as_of: date, seed: int) -> Chart:
    # One generator per patient, seeded by name: adding a patient leaves the others unchanged.
    rng = random.Random(f"{seed}:{situation.slug}")  # noqa: S311 - synthetic data, not secrets
    chart = Chart(situation.patient_id, as_of, rng, staff.prescriber(index))
    age_days = situation.age_years * 365 + situation.age_years // 4 + rng.randrange(365)
    chart.resources.append(
        clinical.patient(
            situation.patient_id,
            family=situation.family,
            given=situation.given,
            gender=situation.gender,
            birth_date=as_of - timedelta(days=age_days),
            mrn=_mrn(index),
            registered_at=_days_ago(as_of, 1500),
            race=situation.race,
            # 555-01xx numbers are reserved for fiction; every third patient has none on file.
            phone=None if index % 3 == 2 else f"+1-555-01{index % 100:02d}",
        )
    )
    chart.resources.append(
        clinical.related_person(situation.patient_id, family=situation.family, given=CAREGIVER)
    )
    onset = -rng.randrange(1500, 4000)
    chart.problem("Schizophrenia, treatment-resistant", onset=onset, coding=codes.SCHIZOPHRENIA)
    situation.build(chart)
    return chart


def _mrn(index: int) -> str:
    return f"SBX{700001 + index}"


def _entry(resource: FhirJson) -> FhirJson:
    key = f"{resource['resourceType']}/{resource['id']}"
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(_URN_NAMESPACE, key)}",
        "resource": resource,
        "request": {"method": "PUT", "url": key},
    }


def _manifest_patient(situation: Situation, index: int, chart: Chart) -> FhirJson:
    return {
        "id": situation.patient_id,
        "name": situation.display_name,
        "family": situation.family,
        "given": situation.given,
        "mrn": _mrn(index),
        "description": situation.description,
        "tags": list(situation.tags),
        "caregiver": {
            "id": clinical.caregiver_id(situation.patient_id),
            "name": f"{CAREGIVER} {situation.family}",
        },
        "resources": dict(sorted(Counter(r["resourceType"] for r in chart.resources).items())),
    }


def _group(patient_ids: list[str]) -> FhirJson:
    """The clinic's clozapine patients as a FHIR Group (what a Bulk Data export is run over)."""
    return {
        "resourceType": "Group",
        "id": CLOZAPINE_GROUP_ID,
        "type": "person",
        "actual": True,
        "name": "Clozapine clinic patients",
        "quantity": len(patient_ids),
        "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in patient_ids],
    }


def _manifest_staff() -> FhirJson:
    practitioners = [
        {"id": c.practitioner_id, "name": c.display, "role": c.role_id} for c in staff.CLINICIANS
    ]
    organizations = [{"id": staff.CLINIC_ID, "name": staff.CLINIC_NAME, "kind": "clinic"}] + [
        {"id": p.organization_id, "name": p.name, "kind": "pharmacy"} for p in staff.PHARMACIES
    ]
    return {"practitioners": practitioners, "organizations": organizations}


def build(as_of: date, seed: int = DEFAULT_SEED) -> tuple[FhirJson, FhirJson]:
    """The transaction Bundle (PUT entries with stable ids) and its manifest, for one as-of date."""
    resources = staff.staff_resources(_days_ago(as_of, 1200))
    patients = []
    members = []
    for index, situation in enumerate(SITUATIONS):
        chart = _chart(situation, index, as_of, seed)
        resources += chart.resources
        patients.append(_manifest_patient(situation, index, chart))
        if any(r["resourceType"] == "MedicationRequest" for r in chart.resources):
            members.append(situation.patient_id)
    resources.append(_group(members))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(r) for r in resources],
    }
    manifest = {
        "generator": "python -m sandbox.patients",
        "as_of": as_of.isoformat(),
        "seed": seed,
        "bundle": {"type": "transaction", "resources": len(resources)},
        "mrn_system": codes.MRN_SYSTEM,
        "patients": patients,
        "group": {"id": CLOZAPINE_GROUP_ID, "members": len(members)},
        **_manifest_staff(),
    }
    return bundle, manifest
