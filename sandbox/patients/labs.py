"""Lab Observations in the Oracle Health shape: vendor + LOINC codes, UTC times, vendor units."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.patients import codes
from sandbox.patients.codes import LabTest, Unit

FhirJson = dict[str, Any]

NORMAL_LOW_PER_UL = 1800
NORMAL_HIGH_PER_UL = 7700

# (vendor codeSet/52 code, vendor text, v3 code, v3 display) by lab flag.
_FLAGS = {
    "normal": ("214", "Normal", "N", "Normal"),
    "low": ("211", "LOW", "L", "Low"),
    "critical": ("203", "CRIT", "LL", "Critical low"),
    "high": ("210", "HIGH", "H", "High"),
}


def instant(moment: datetime) -> str:
    """A UTC instant written as the vendor writes it: 2026-11-20T14:25:00.000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _category() -> list[FhirJson]:
    coding = {"system": codes.OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}
    return [{"coding": [coding], "text": "Laboratory"}]


def _code(test: LabTest) -> FhirJson:
    vendor = {
        "system": codes.VENDOR_EVENT_CODE,
        "code": test.vendor_code,
        "display": test.text,
        "userSelected": True,
    }
    return {"coding": [vendor, {"system": codes.LOINC, "code": test.loinc}], "text": test.text}


def quantity(value: float | int, unit: Unit) -> FhirJson:
    """A valueQuantity; a unit with no UCUM code is written as its display string alone."""
    if unit.code is None:
        return {"value": value, "unit": unit.unit}
    return {"value": value, "unit": unit.unit, "system": codes.UCUM, "code": unit.code}


def _flag(cells_per_ul: float) -> str:
    if cells_per_ul < 500:
        return "critical"
    if cells_per_ul < NORMAL_LOW_PER_UL:
        return "low"
    return "high" if cells_per_ul > NORMAL_HIGH_PER_UL else "normal"


def _interpretation(flag: str) -> list[FhirJson]:
    vendor_code, vendor_text, code, display = _FLAGS[flag]
    vendor = {"system": codes.VENDOR_INTERPRETATION, "code": vendor_code, "userSelected": True}
    standard = {"system": codes.INTERPRETATION, "code": code, "display": display}
    return [{"coding": [vendor, standard], "text": vendor_text}]


def _reference_range(unit: Unit) -> list[FhirJson]:
    low = quantity(unit.value(NORMAL_LOW_PER_UL), unit)
    high = quantity(unit.value(NORMAL_HIGH_PER_UL), unit)
    return [{"low": low, "high": high}]


def _envelope(obs_id: str, patient_id: str, test: LabTest, collected_at: datetime) -> FhirJson:
    issued_at = collected_at + timedelta(minutes=13)
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "meta": {"versionId": "1", "lastUpdated": instant(issued_at)},
        "status": "final",
        "category": _category(),
        "code": _code(test),
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": instant(collected_at),
        "issued": instant(issued_at),
    }


def count_observation(
    obs_id: str,
    patient_id: str,
    test: LabTest,
    collected_at: datetime,
    cells_per_ul: float,
    unit: Unit,
    *,
    value: float | int | None = None,
) -> FhirJson:
    """A final cell count (ANC or WBC); `value` overrides the converted number (unit errors)."""
    shown = unit.value(cells_per_ul) if value is None else value
    observation = _envelope(obs_id, patient_id, test, collected_at)
    observation["valueQuantity"] = quantity(shown, unit)
    observation["interpretation"] = _interpretation(_flag(cells_per_ul))
    observation["referenceRange"] = _reference_range(unit)
    return observation


def percent_observation(
    obs_id: str, patient_id: str, test: LabTest, collected_at: datetime, percent: float
) -> FhirJson:
    """A final differential percentage (neutrophils or bands per 100 leukocytes)."""
    observation = _envelope(obs_id, patient_id, test, collected_at)
    observation["valueQuantity"] = quantity(round(percent, 1), codes.PERCENT)
    return observation


def masked_observation(
    obs_id: str, patient_id: str, test: LabTest, collected_at: datetime
) -> FhirJson:
    """A preliminary result whose value the lab has not released (dataAbsentReason masked)."""
    observation = _envelope(obs_id, patient_id, test, collected_at)
    observation["status"] = "preliminary"
    del observation["issued"]
    coding = {"system": codes.DATA_ABSENT_REASON, "code": "masked", "display": "Masked"}
    observation["dataAbsentReason"] = {"coding": [coding], "text": "Masked"}
    return observation
