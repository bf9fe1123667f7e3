"""Patient, MedicationRequest and Condition resources in the Oracle Health R4 shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sandbox.patients import codes
from sandbox.patients.codes import Drug
from sandbox.patients.labs import instant

FhirJson = dict[str, Any]
MedicationForm = Literal["concept", "contained", "reference"]


@dataclass(frozen=True, slots=True)
class Prescriber:
    """Who signs an order (a Practitioner or PractitionerRole reference) and where it is filled."""

    practitioner: str
    requester: str
    requester_display: str
    pharmacy: str
    pharmacy_display: str


def patient(
    patient_id: str,
    *,
    family: str,
    given: str,
    gender: str,
    birth_date: date,
    mrn: str,
    registered_at: datetime,
    race: tuple[str, str] | None = None,
    phone: str | None = None,
) -> FhirJson:
    """A Patient with an MRN and, when given, a US Core race (OMB code, display) and a
    mobile phone number."""
    mr_type = {"system": codes.IDENTIFIER_TYPE, "code": "MR", "display": "Medical record number"}
    resource: FhirJson = {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"versionId": "1", "lastUpdated": instant(registered_at)},
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [mr_type], "text": "MRN"},
                "system": codes.MRN_SYSTEM,
                "value": mrn,
            }
        ],
        "active": True,
        "name": [
            {"use": "official", "text": f"{family}, {given}", "family": family, "given": [given]}
        ],
        "gender": gender,
        "birthDate": birth_date.isoformat(),
    }
    if race is not None:
        resource["extension"] = [_race_extension(*race)]
    if phone is not None:
        resource["telecom"] = [{"system": "phone", "value": phone, "use": "mobile"}]
    return resource


def related_person(patient_id: str, *, family: str, given: str) -> FhirJson:
    """The patient's caregiver (a family member), who signs in to the portal as a proxy."""
    relationship = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
        "code": "FAMMEMB",
        "display": "family member",
    }
    return {
        "resourceType": "RelatedPerson",
        "id": caregiver_id(patient_id),
        "active": True,
        "patient": {"reference": f"Patient/{patient_id}"},
        "relationship": [{"coding": [relationship], "text": "Family member"}],
        "name": [
            {"use": "official", "text": f"{given} {family}", "family": family, "given": [given]}
        ],
    }


def caregiver_id(patient_id: str) -> str:
    """The id of the patient's caregiver's RelatedPerson."""
    return f"{patient_id}-caregiver"


def _race_extension(omb_code: str, display: str) -> FhirJson:
    return {
        "url": codes.US_CORE_RACE,
        "extension": [
            {
                "url": "ombCategory",
                "valueCoding": {"system": codes.OMB_RACE, "code": omb_code, "display": display},
            },
            {"url": "text", "valueString": display},
        ],
    }


def medication_concept(drug: Drug) -> FhirJson:
    """The drug as a CodeableConcept: RxNorm SCD beside the vendor's synonym coding."""
    return {
        "coding": [
            {"system": codes.RXNORM, "code": drug.rxnorm, "display": drug.display},
            {
                "system": codes.VENDOR_SYNONYM,
                "code": drug.synonym_code,
                "display": drug.display.lower(),
            },
        ],
        "text": f"{drug.display.split()[0]} ({drug.display.lower()})",
    }


def medication(medication_id: str, drug: Drug) -> FhirJson:
    """A Medication resource, for orders that reference or contain one."""
    return {"resourceType": "Medication", "id": medication_id, "code": medication_concept(drug)}


def _medication_fields(drug: Drug, form: MedicationForm, medication_id: str) -> FhirJson:
    if form == "reference":
        return {
            "medicationReference": {
                "reference": f"Medication/{medication_id}",
                "display": drug.display,
            }
        }
    if form == "contained":
        contained = medication("med", drug)
        return {"contained": [contained], "medicationReference": {"reference": "#med"}}
    return {"medicationCodeableConcept": medication_concept(drug)}


def _dosage(drug: Drug, start_at: datetime, end_at: datetime | None) -> FhirJson:
    bounds = {"start": instant(start_at)} | ({"end": instant(end_at)} if end_at else {})
    oral = {"system": codes.SNOMED, "code": "26643006", "display": "Oral route (qualifier value)"}
    return {
        "text": f"{drug.dose_mg} mg = 1 tab, Oral, at bedtime",
        "timing": {"repeat": {"boundsPeriod": bounds}, "code": {"text": "at bedtime"}},
        "route": {"coding": [oral], "text": "Oral"},
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": drug.dose_mg,
                    "unit": "mg",
                    "system": codes.UCUM,
                    "code": "mg",
                }
            }
        ],
    }


def medication_request(
    request_id: str,
    patient_id: str,
    drug: Drug,
    *,
    status: str,
    authored_at: datetime,
    start_at: datetime,
    end_at: datetime | None,
    prescriber: Prescriber,
    form: MedicationForm = "concept",
    medication_id: str = "",
) -> FhirJson:
    """An order shaped like Oracle Health's: validityPeriod holds only the start; the therapy
    window (with its real end, if any) is in dosageInstruction.timing.repeat.boundsPeriod."""
    course = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
    category = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
    return {
        "resourceType": "MedicationRequest",
        "id": request_id,
        "meta": {"versionId": "0", "lastUpdated": instant(end_at or authored_at)},
        "status": status,
        "intent": "order",
        "category": [
            {"coding": [{"system": category, "code": "community", "display": "Community"}]}
        ],
        "reportedBoolean": False,
        **_medication_fields(drug, form, medication_id),
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": instant(authored_at),
        "requester": {"reference": prescriber.requester, "display": prescriber.requester_display},
        "courseOfTherapyType": {
            "coding": [
                {"system": course, "code": "continuous", "display": "Continuous long term therapy"}
            ],
            "text": "Maintenance",
        },
        "dosageInstruction": [_dosage(drug, start_at, end_at)],
        "dispenseRequest": {
            "validityPeriod": {"start": instant(start_at)},
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 30, "unit": "tab", "system": codes.UCUM, "code": "{tbl}"},
            "performer": {"reference": prescriber.pharmacy, "display": prescriber.pharmacy_display},
        },
    }


def condition(
    condition_id: str,
    patient_id: str,
    *,
    text: str,
    onset: date,
    recorded_at: datetime,
    recorder: str,
    coding: FhirJson | None = None,
) -> FhirJson:
    """An active, confirmed problem-list Condition."""
    clinical = {"system": codes.CONDITION_CLINICAL, "code": "active", "display": "Active"}
    verified = {"system": codes.CONDITION_VERIFICATION, "code": "confirmed", "display": "Confirmed"}
    category = {
        "system": codes.CONDITION_CATEGORY,
        "code": "problem-list-item",
        "display": "Problem List Item",
    }
    return {
        "resourceType": "Condition",
        "id": condition_id,
        "meta": {"versionId": "1", "lastUpdated": instant(recorded_at)},
        "clinicalStatus": {"coding": [clinical], "text": "Active"},
        "verificationStatus": {"coding": [verified], "text": "Confirmed"},
        "category": [{"coding": [category], "text": "Problem List Item"}],
        "code": {"coding": [coding], "text": text} if coding else {"text": text},
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": onset.isoformat(),
        "recordedDate": instant(recorded_at),
        "recorder": {"reference": recorder},
    }
