"""The shape of a policy: citations, provenance and the rows of its rule tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clozapine.vocabulary import (
    Category,
    FindingCode,
    Frequency,
    Population,
    Recommendation,
    Severity,
)


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: a document and its section, and any convention settling a gap."""

    document: str
    section: str
    table: str | None = None
    revised: str | None = None
    convention: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        title = f"{self.document} ({self.revised})" if self.revised else self.document
        parts = [title, f"section {self.section}" if self.section[:1].isdigit() else self.section]
        if self.table:
            parts.append(self.table)
        text = ", ".join(parts)
        return f"{text}; {self.convention}" if self.convention else text


@dataclass(frozen=True, slots=True)
class Signoff:
    """A reviewer's sign-off of a table against its sources: who, in what role, from which
    organisation, and on what date."""

    name: str
    role: str
    organisation: str
    signed_on: date


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who wrote and checked a table, and when it is next reviewed (as openprescribing records);
    `signoffs` are the reviewers' sign-offs (none yet)."""

    label_revision: str
    authored_by: str
    checked_by: str
    reviewed_on: date
    next_review: date
    signoffs: tuple[Signoff, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewedTable:
    """One table behind a policy, by the name a reviewer knows it by, with its provenance and
    the sign-off that verifies it (None until a pharmacist outside the authors signs it)."""

    name: str
    provenance: Provenance
    verified_by: Signoff | None


@dataclass(frozen=True, slots=True)
class PolicyReview:
    """Whether a policy's tables are verified: `status` is the words the JSON carries."""

    status: str
    policy: str
    tables: tuple[ReviewedTable, ...]
    message: str

    @property
    def verified(self) -> bool:
        """True when every table is signed off by a pharmacist outside the authors."""
        return all(table.verified_by is not None for table in self.tables)


@dataclass(frozen=True, slots=True)
class AncBand:
    """An ANC category: lower bound inclusive, upper bound exclusive (None: no upper bound)."""

    rule_id: str
    population: Population
    lower_per_ul: int
    upper_per_ul: int | None
    category: Category
    citation: Citation

    def contains(self, value_per_ul: int) -> bool:
        """True when the value falls in this band."""
        above = value_per_ul >= self.lower_per_ul
        return above and (self.upper_per_ul is None or value_per_ul < self.upper_per_ul)


@dataclass(frozen=True, slots=True)
class RoutineInterval:
    """The routine ANC interval by days on treatment: from_day inclusive, to_day exclusive."""

    rule_id: str
    from_day: int | None
    to_day: int | None
    frequency: Frequency
    interval_days: int
    citation: Citation


@dataclass(frozen=True, slots=True)
class EpisodeStep:
    """Inside an unrecovered low-result episode: applies while the latest ANC is below a value."""

    rule_id: str
    below_per_ul: int
    frequency: Frequency
    interval_days: int
    recommendation: Recommendation
    citation: Citation


@dataclass(frozen=True, slots=True)
class EpisodeRule:
    """What a low-result episode with its worst result in `worst` asks for, to recovery and after.

    `steps` are ordered by `below_per_ul`, lowest first. `tail_days` > 0 adds weekly checks after
    the recovery result; `restarts_treatment` means the recovery result starts a new treatment
    episode (the patient is monitored as new).
    """

    rule_id: str
    population: Population
    worst: Category
    steps: tuple[EpisodeStep, ...]
    recovery_rule_id: str
    recovery_recommendation: Recommendation
    tail_days: int
    tail_frequency: Frequency
    tail_interval_days: int
    restarts_treatment: bool
    hematology_consult: bool
    rechallenge_judgement: bool
    citation: Citation


@dataclass(frozen=True, slots=True)
class PopulationRules:
    """All ANC rows for one population.

    `normal_threshold_per_ul` starts and ends low-result episodes; a result below
    `severe_below_per_ul` makes its episode severe (interrupt; rechallenge as a new patient); a
    first low result is confirmed by a repeat ANC within `confirm_low_within_hours`.
    """

    population: Population
    normal_threshold_per_ul: int
    severe_below_per_ul: int
    bands: tuple[AncBand, ...]
    episodes: tuple[EpisodeRule, ...]
    baseline_min_per_ul: int
    baseline_min_results: int
    baseline_window_days: int
    baseline_rule_id: str
    baseline_citation: Citation
    confirm_low_within_hours: int


@dataclass(frozen=True, slots=True)
class FindingRule:
    """A finding the policy can make: its code, severity, stable rule id, citation and message.

    `message` is a str.format template; the engine fills the named dates and values.
    """

    code: FindingCode
    severity: Severity
    rule_id: str
    citation: Citation
    message: str


@dataclass(frozen=True, slots=True)
class ProgramRules:
    """A REMS-style program's registry rules (None for a policy without a program).

    Records count from `program_start_on` through the as-of date. `deadline_on`, when set, is
    named in the certification and enrollment messages.
    """

    program_start_on: date
    deadline_on: date | None
    enrollment_labs_window_days: int | None
    status_form_max_age_days: int | None
    rationale_categories: frozenset[Category]


@dataclass(frozen=True, slots=True)
class OrganisationProgram:
    """The organisation's program rules, as written in its settings file.

    A renewal period of None means records do not expire unless they carry their own expiry;
    `anc_dispense_window_days` None means no freshness check before dispensing.
    """

    program_id: str
    name: str
    document: str
    enrollment_required: bool
    enrollment_renewal_days: int | None
    certification_renewal_days: int | None
    anc_dispense_window_days: int | None
    writeback_findings: tuple[FindingCode, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """One dated policy: the ANC rules, the routine schedule, the findings and any program."""

    policy_id: str
    title: str
    in_force_from: date
    in_force_to: date | None
    provenance: Provenance
    review: PolicyReview
    general: PopulationRules
    ben: PopulationRules
    routine: tuple[RoutineInterval, ...]
    treatment_gap_days: int
    treatment_gap_rule_id: str
    treatment_gap_citation: Citation
    findings: dict[FindingCode, FindingRule]
    program: ProgramRules | None
    policy_notice: FindingCode | None
    organisation: OrganisationProgram | None = None

    @property
    def reads_registry(self) -> bool:
        """True under a program (REMS or the organisation's): its registry records are read."""
        return self.program is not None or self.organisation is not None

    def rules_for(self, population: Population) -> PopulationRules:
        """The ANC rows for a population."""
        return self.ben if population is Population.BEN else self.general
