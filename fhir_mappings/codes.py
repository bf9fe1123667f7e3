"""Code tables the inbound mapping reads by, each with the source it follows.

Sources: the evaluation contract ("Reading the Bundle", ../shared/docs/evaluation-contract.md)
and clozapine-monitoring.md section 4 (LOINC 4.1-4.2, RxNorm 4.4), whose tables cite LOINC 2.82
($lookup on tx.fhir.org) and the eCQM antipsychotic value set of 2021-05-06.
"""

from __future__ import annotations

import re

from clozapine.labs import LabKind

__all__ = [
    "BEN_CLINICAL_STATUSES",
    "BEN_VERIFICATION_STATUSES",
    "BEN_WORDS",
    "CLOZAPINE_NAMES",
    "COUNTING_ORDER_STATUSES",
    "COUNTING_RESULT_STATUSES",
    "LOINC_LAB_KINDS",
    "LOINC_SYSTEM",
    "ONGOING_ORDER_STATUSES",
    "PENDING_RESULT_STATUS",
    "RXNORM_CLOZAPINE_CODES",
    "RXNORM_SYSTEM",
    "LabKind",
]

LOINC_SYSTEM = "http://loinc.org"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"


# clozapine-monitoring.md 4.1 (ANC: 751-8 automated, 753-4 manual, 26499-4 method-less;
# segmented 768-2 / 30451-9 and band 763-3 / 26507-4 counts) and 4.2 (WBC 6690-2, 26464-8,
# 804-5; neutrophil % 770-8, 26511-6, 23761-0; band % 764-1, 26508-2, 35332-6).
LOINC_LAB_KINDS: dict[str, LabKind] = {
    "751-8": LabKind.ANC,
    "753-4": LabKind.ANC,
    "26499-4": LabKind.ANC,
    "6690-2": LabKind.WBC,
    "26464-8": LabKind.WBC,
    "804-5": LabKind.WBC,
    "770-8": LabKind.NEUTROPHIL_PERCENT,
    "26511-6": LabKind.NEUTROPHIL_PERCENT,
    "23761-0": LabKind.NEUTROPHIL_PERCENT,
    "764-1": LabKind.BAND_PERCENT,
    "26508-2": LabKind.BAND_PERCENT,
    "35332-6": LabKind.BAND_PERCENT,
    "768-2": LabKind.SEGMENTED_COUNT,
    "30451-9": LabKind.SEGMENTED_COUNT,
    "763-3": LabKind.BAND_COUNT,
    "26507-4": LabKind.BAND_COUNT,
}

# clozapine-monitoring.md 4.4: ingredient 2626 and the SCD/SBD codes (eCQM antipsychotic value
# set 2.16.840.1.113883.3.464.1003.196.12.1523; Clozaril and Versacloz SBDs from openFDA NDC).
RXNORM_CLOZAPINE_CODES = frozenset(
    {
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
    }
)

# Contract: "a text or coding display naming clozapine, Clozaril, FazaClo or Versacloz".
CLOZAPINE_NAMES = re.compile(r"clozapine|clozaril|fazaclo|versacloz", re.IGNORECASE)

# Contract: a Condition whose text or display contains "benign ethnic neutropenia" or
# "Duffy-null"; ruling "Spelling": "Duffy null" with a hyphen or spaces, ignoring case and runs of
# white space.
BEN_WORDS = re.compile(r"benign\s+ethnic\s+neutropenia|duffy(?:\s*-\s*|\s+)null", re.IGNORECASE)

# Contract: order statuses that count (draft, cancelled, entered-in-error, unknown do not).
COUNTING_ORDER_STATUSES = frozenset({"active", "on-hold", "completed", "stopped"})
ONGOING_ORDER_STATUSES = frozenset({"active", "on-hold"})

# Contract: Observation statuses that count; `preliminary` yields result-pending; others ignored.
# Statuses are matched ignoring case (ruling "Spelling"): the readers lower-case them first.
COUNTING_RESULT_STATUSES = frozenset({"final", "amended", "corrected"})
PENDING_RESULT_STATUS = "preliminary"

# Contract: Condition statuses that document BEN (an absent status also counts).
BEN_CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse"})
BEN_VERIFICATION_STATUSES = frozenset({"confirmed"})
