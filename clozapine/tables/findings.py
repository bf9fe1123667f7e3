"""Finding rows: code, severity, stable rule id, citation and the message a prescriber reads.

Messages are str.format templates; the engine fills the named fields. Severities follow the
evaluation contract and are never re-graded.
"""

from __future__ import annotations

from datetime import date

from clozapine.policy import Citation, FindingRule, Provenance
from clozapine.tables import sources
from clozapine.tables.sources import CONTRACT, LabelSections
from clozapine.vocabulary import FindingCode, Severity

# Who wrote and checked these rows, and when they are next reviewed (openprescribing's fields).
PROVENANCE = Provenance(
    label_revision="Clozaril prescribing information 6/2025; Clozapine REMS 2015 and 2021",
    authored_by="Clinical informatics, clozapine monitoring app",
    checked_by="awaiting pharmacist sign-off (open items: clozapine-monitoring.md section 7)",
    reviewed_on=date(2026, 11, 25),
    next_review=date(2027, 5, 25),
)


def label_findings(label: LabelSections) -> dict[FindingCode, FindingRule]:
    """Findings about ANC monitoring, made under every policy."""
    table = label.general_table
    rows = (
        FindingRule(
            FindingCode.MONITORING_OVERDUE,
            Severity.CRITICAL,
            "MON-OVERDUE",
            table,
            "{frequency} ANC was due on {next_due} and is {days_overdue} day(s) overdue"
            " (last ANC {last_value}/uL on {last_on}). Draw a CBC with differential now.",
        ),
        FindingRule(
            FindingCode.MONITORING_DUE,
            Severity.WARNING,
            "MON-DUE",
            table,
            "{frequency} ANC is due today, {next_due} (last ANC {last_value}/uL on {last_on}).",
        ),
        FindingRule(
            FindingCode.NO_ANC_ON_FILE,
            Severity.CRITICAL,
            "MON-NO-ANC",
            table,
            "No usable ANC is on file for this patient on clozapine (day {days_on_treatment}"
            " of treatment, {frequency} schedule). Draw a CBC with differential now.",
        ),
        FindingRule(
            FindingCode.INTERRUPT_RECOMMENDED,
            Severity.CRITICAL,
            "EPI-INTERRUPT",
            table,
            "Interrupt clozapine: the latest ANC is {value}/uL ({category}) on {on}. {resume}",
        ),
        FindingRule(
            FindingCode.HEMATOLOGY_CONSULT_RECOMMENDED,
            Severity.WARNING,
            "EPI-HEMATOLOGY",
            table,
            "Hematology consultation is recommended: the low-ANC episode since {episode_on}"
            " (worst category {worst}, lowest ANC {worst_value}/uL) has not yet recovered to"
            " {threshold}/uL or more.",
        ),
        FindingRule(
            FindingCode.RECHALLENGE_REQUIRES_PRESCRIBER_JUDGEMENT,
            Severity.WARNING,
            "EPI-RECHALLENGE",
            table,
            "This low-ANC episode (from {episode_on}) included an ANC below 500/uL. Do not"
            " rechallenge unless you judge that the benefit outweighs the risk; a rechallenged"
            " patient is monitored as a new patient.",
        ),
        FindingRule(
            FindingCode.LOW_ANC_UNCONFIRMED,
            Severity.WARNING,
            "LOW-CONFIRM-24H",
            label.confirmation,
            "First ANC below {threshold}/uL: {value}/uL collected {collected_at}. Confirm it"
            " with a repeat ANC by {repeat_by} (within {within_hours} hours).",
        ),
        FindingRule(
            FindingCode.BASELINE_MISSING,
            Severity.CRITICAL,
            "BASELINE-MISSING",
            label.baseline,
            "No baseline ANC from {window_from} to {window_to} for the clozapine start on"
            " {start_on}. Obtain a baseline ANC before starting.",
        ),
        FindingRule(
            FindingCode.BASELINE_BELOW_THRESHOLD,
            Severity.CRITICAL,
            "BASELINE-BELOW",
            label.baseline,
            "The baseline ANC of {value}/uL on {on} is below {threshold}/uL: starting clozapine"
            " is not recommended.",
        ),
        FindingRule(
            FindingCode.BEN_BASELINE_INCOMPLETE,
            Severity.WARNING,
            "BASELINE-BEN-TWO",
            label.baseline,
            "Documented BEN: at least two baseline ANCs are recommended before starting;"
            " {count} found from {window_from} to {window_to}.",
        ),
        FindingRule(
            FindingCode.RESULT_PENDING,
            Severity.WARNING,
            "RESULT-PENDING",
            Citation(
                "Laboratory result status",
                "Observation.status preliminary",
                convention=f"{CONTRACT}: a pending result may be the low one",
            ),
            "{count} result(s) not final yet, the latest collected {collected_at} ({detail}). It"
            " may be the low one: review it when it is final.",
        ),
        FindingRule(
            FindingCode.UNIT_ERROR,
            Severity.WARNING,
            "UNIT-ERROR",
            Citation(
                "UCUM units for ANC",
                "clozapine-monitoring.md 4.3",
                convention=f"{CONTRACT}: unusable values fall back to the previous ANC",
            ),
            "{count} ANC result(s) could not be used, the latest collected {collected_at}:"
            " {detail}. The previous usable ANC is shown; check the lab report.",
        ),
    )
    return {row.code: row for row in rows}


def _rems_rows(program: str, cite: Citation, deadline: str) -> tuple[FindingRule, ...]:
    return (
        FindingRule(
            FindingCode.PATIENT_NOT_ENROLLED,
            Severity.WARNING,
            f"{program}-PATIENT-ENROLLED",
            cite,
            "The patient has no counting enrollment in the {program_name} on record" + deadline,
        ),
        FindingRule(
            FindingCode.PRESCRIBER_NOT_CERTIFIED,
            Severity.WARNING,
            f"{program}-PRESCRIBER-CERTIFIED",
            cite,
            "The prescriber ({prescriber}) has no counting certification in the {program_name}"
            " on record" + deadline,
        ),
        FindingRule(
            FindingCode.PRESCRIBER_UNKNOWN,
            Severity.WARNING,
            f"{program}-PRESCRIBER-IDENTIFIED",
            cite,
            "The prescriber of the current order could not be identified (its requester names"
            " no Practitioner), so certification in the {program_name} could not be checked"
            + deadline,
        ),
        FindingRule(
            FindingCode.PHARMACY_NOT_CERTIFIED,
            Severity.WARNING,
            f"{program}-PHARMACY-CERTIFIED",
            cite,
            "The dispensing pharmacy ({pharmacy}) has no counting certification in the"
            " {program_name} on record" + deadline,
        ),
        FindingRule(
            FindingCode.ENROLLMENT_UNKNOWN,
            Severity.INFO,
            f"{program}-REGISTRY",
            cite,
            "No program registry was given, so enrollment and certification in the"
            " {program_name} could not be checked.",
        ),
    )


def rems_2015_findings() -> dict[FindingCode, FindingRule]:
    """Findings of the 2015 Clozapine REMS (certification, enrollment, treatment rationale)."""
    rows = (
        *_rems_rows("REMS2015", sources.REMS_2015, "."),
        FindingRule(
            FindingCode.TREATMENT_RATIONALE_REQUIRED,
            Severity.WARNING,
            "REMS2015-RATIONALE",
            sources.REMS_2015_RATIONALE,
            "The latest ANC is {value}/uL ({category}): the program dispensed clozapine only with"
            " a treatment rationale documented by the prescriber.",
        ),
    )
    return {row.code: row for row in rows}


def rems_2021_findings() -> dict[FindingCode, FindingRule]:
    """Findings of the 2021 modified Clozapine REMS: re-certification, labs, status forms."""
    deadline = (
        "; the modified program required it by {deadline_on}, the end of the 37-day"
        " transition after its 2021-11-15 launch."
    )
    rows = (
        *_rems_rows("REMS2021", sources.REMS_2021, deadline),
        FindingRule(
            FindingCode.ENROLLMENT_ANC_STALE,
            Severity.WARNING,
            "REMS2021-ENROLLMENT-LABS",
            sources.REMS_2021_LABS,
            "The enrollment on {enrolled_on} has no usable ANC collected from {window_from} to"
            " {enrolled_on}; re-enrollment required labs from the past 30 days.",
        ),
        FindingRule(
            FindingCode.PSF_OVERDUE,
            Severity.WARNING,
            "REMS2021-PSF",
            sources.REMS_2021_PSF,
            "The last Patient Status Form (or the enrollment) was on {last_on}, {age_days} days"
            " ago; the program expected one monthly, within {max_days} days.",
        ),
        FindingRule(
            FindingCode.TREATMENT_RATIONALE_REQUIRED,
            Severity.WARNING,
            "REMS2021-RATIONALE",
            sources.REMS_2021_RATIONALE,
            "The latest ANC is {value}/uL ({category}): the program dispensed clozapine only with"
            " a treatment rationale documented by the prescriber.",
        ),
    )
    return {row.code: row for row in rows}


def label_2025_findings() -> dict[FindingCode, FindingRule]:
    """The notice that the REMS no longer exists, made under the label policy."""
    row = FindingRule(
        FindingCode.REMS_ELIMINATED,
        Severity.INFO,
        "LABEL-REMS-ELIMINATED",
        sources.REMS_ELIMINATED,
        "The Clozapine REMS was eliminated (effective 2025-06-13; participation not expected"
        " from 2025-02-24). ANC monitoring follows the prescribing information.",
    )
    return {row.code: row}
