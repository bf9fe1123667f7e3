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
