"""The engine's closed vocabularies: populations, ANC categories, frequencies, recommendations."""

from __future__ import annotations

import enum


class Population(enum.Enum):
    """Which ANC table applies: the general one, or the one for documented BEN."""

    GENERAL = "general"
    BEN = "ben"


class Category(enum.Enum):
    """ANC category for a population (label section 2.3 Table 1 / 2.4 Table 2)."""

    NORMAL = "normal"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    BEN_NORMAL = "ben-normal"
    BEN_NEUTROPENIA = "ben-neutropenia"
    BEN_SEVERE = "ben-severe"


class Frequency(enum.Enum):
    """How often an ANC is recommended."""

    DAILY = "daily"
    THREE_TIMES_WEEKLY = "three-times-weekly"
    WEEKLY = "weekly"
    EVERY_2_WEEKS = "every-2-weeks"
    MONTHLY = "monthly"


class Recommendation(enum.Enum):
    """The treatment recommendation the evaluation gives."""

    CONTINUE = "continue"
    INTERRUPT = "interrupt"
    RESUME_ALLOWED = "resume-allowed"
    DO_NOT_START = "do-not-start"
    NOT_APPLICABLE = "not-applicable"


class MonitoringStatus(enum.Enum):
    """Where the patient stands against the next ANC due date."""

    CURRENT = "current"
    DUE = "due"
    OVERDUE = "overdue"
    NO_ANC_ON_FILE = "no-anc-on-file"
    NOT_APPLICABLE = "not-applicable"


class Severity(enum.Enum):
    """How urgently a finding needs someone to act; ordered critical first."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical, 1 for warning, 2 for info: the order findings are listed in."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Overall(enum.Enum):
    """The one-word summary of an evaluation."""

    OK = "ok"
    ATTENTION = "attention"
    ACTION_REQUIRED = "action-required"
    NOT_APPLICABLE = "not-applicable"


class FindingCode(enum.StrEnum):
    """The finding codes (the contract's, and the organisation program's); str-valued, so a code
    compares equal to, and prints as, its contract spelling."""

    MONITORING_OVERDUE = "monitoring-overdue"
    NO_ANC_ON_FILE = "no-anc-on-file"
    INTERRUPT_RECOMMENDED = "interrupt-recommended"
    BASELINE_BELOW_THRESHOLD = "baseline-below-threshold"
    BASELINE_MISSING = "baseline-missing"
    MONITORING_DUE = "monitoring-due"
    RESULT_PENDING = "result-pending"
    LOW_ANC_UNCONFIRMED = "low-anc-unconfirmed"
    HEMATOLOGY_CONSULT_RECOMMENDED = "hematology-consult-recommended"
    RECHALLENGE_REQUIRES_PRESCRIBER_JUDGEMENT = "rechallenge-requires-prescriber-judgement"
    BEN_BASELINE_INCOMPLETE = "ben-baseline-incomplete"
    UNIT_ERROR = "unit-error"
    PATIENT_NOT_ENROLLED = "patient-not-enrolled"
    PRESCRIBER_NOT_CERTIFIED = "prescriber-not-certified"
    PHARMACY_NOT_CERTIFIED = "pharmacy-not-certified"
    PRESCRIBER_UNKNOWN = "prescriber-unknown"
    ENROLLMENT_ANC_STALE = "enrollment-anc-stale"
    PSF_OVERDUE = "psf-overdue"
    TREATMENT_RATIONALE_REQUIRED = "treatment-rationale-required"
    REMS_ELIMINATED = "rems-eliminated"
    ENROLLMENT_UNKNOWN = "enrollment-unknown"
    ENROLLMENT_EXPIRED = "enrollment-expired"
    CERTIFICATION_EXPIRED = "certification-expired"
    ANC_TOO_OLD_TO_DISPENSE = "anc-too-old-to-dispense"
