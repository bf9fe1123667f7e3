"""Code systems, lab tests, drugs and unit shapes that the synthetic chart is written with."""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
US_CORE_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
OMB_RACE = "urn:oid:2.16.840.1.113883.6.238"

# A made-up tenant in the Oracle Health (Cerner) URL shape: proprietary codings sit beside the
# standard ones, as in shared/fixtures/vendor-examples/oracle-health.
TENANT = "935373d4-ca93-5f6c-b5d0-9d513a189e9f"
VENDOR = f"https://fhir.cerner.com/{TENANT}"
VENDOR_EVENT_CODE = f"{VENDOR}/codeSet/72"
VENDOR_INTERPRETATION = f"{VENDOR}/codeSet/52"
VENDOR_SYNONYM = f"{VENDOR}/synonym"
VENDOR_NOMENCLATURE = f"{VENDOR}/nomenclature"

# OIDs under 2.25 (derived from UUIDs, ITU-T X.667) need no registration and name nothing real.
MRN_SYSTEM = "urn:oid:2.25.307853912719481921456913972845943247554"
STAFF_ID_SYSTEM = "urn:oid:2.25.4067825463011158377911805861721925239"


@dataclass(frozen=True, slots=True)
class LabTest:
    """One lab result code: LOINC (written without display, as vendors do) and its vendor twin."""

    loinc: str
    vendor_code: str
    text: str


ANC_AUTOMATED = LabTest("751-8", "4218719", "Neutro Abs")
ANC_MANUAL = LabTest("753-4", "4218720", "Neutro Abs Man")
ANC_UNSPECIFIED = LabTest("26499-4", "4218721", "Neutrophils Abs")
WBC = LabTest("6690-2", "4218692", "WBC")
NEUTROPHIL_PERCENT = LabTest("770-8", "4218701", "Neutro %")
BAND_PERCENT = LabTest("764-1", "4218705", "Bands %")

ANC_TESTS = (ANC_AUTOMATED, ANC_MANUAL, ANC_UNSPECIFIED)


@dataclass(frozen=True, slots=True)
class Unit:
    """How a lab writes a count: display `unit`, UCUM `code` (or none), cells/uL per unit."""

    unit: str
    code: str | None
    cells_per_unit: int
    decimals: int

    def value(self, cells_per_ul: float) -> float | int:
        """The number this lab would print for a count given in cells/uL."""
        value = round(cells_per_ul / self.cells_per_unit, self.decimals)
        return int(value) if self.decimals == 0 else value


# The unit shapes of the evaluation contract, as the labs that use them write them.
THOUSANDS_MCL = Unit("x10(3)/mcL", "10*3/uL", 1000, 2)  # Oracle Health display + UCUM code
PER_UL = Unit("/uL", "/uL", 1, 0)
GIGA_PER_L = Unit("10*9/L", "10*9/L", 1000, 2)
K_PER_UL_TEXT = Unit("K/uL", None, 1000, 1)  # point-of-care style: display string only
CELLS_PER_UL = Unit("cells/uL", "{cells}/uL", 1, 0)
PERCENT = Unit("%", "%", 1, 1)

COUNT_UNITS = (THOUSANDS_MCL, PER_UL, GIGA_PER_L, K_PER_UL_TEXT, CELLS_PER_UL)


@dataclass(frozen=True, slots=True)
class Drug:
    """An orderable: RxNorm SCD with the vendor's synonym coding beside it."""

    rxnorm: str
    display: str
    synonym_code: str
    dose_text: str
    dose_mg: int


CLOZAPINE_25 = Drug("197536", "clozapine 25 MG Oral Tablet", "276230741", "25 mg oral tablet", 25)
CLOZAPINE_100 = Drug(
    "197535", "clozapine 100 MG Oral Tablet", "276230742", "100 mg oral tablet", 100
)
CLOZAPINE_ODT_100 = Drug(
    "476177", "clozapine 100 MG Disintegrating Oral Tablet", "276230743", "100 mg ODT", 100
)
OLANZAPINE_10 = Drug("314155", "olanzapine 10 MG Oral Tablet", "276231810", "10 mg oral tablet", 10)

BEN_TEXT = "Benign ethnic neutropenia"
DANC_TEXT = "Duffy-null associated neutrophil count"
SCHIZOPHRENIA = {"system": SNOMED, "code": "58214004", "display": "Schizophrenia (disorder)"}
