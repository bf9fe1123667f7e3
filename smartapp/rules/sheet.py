"""The rules sheet's rows, generated from the policy tables: every row with its thresholds, action
and citation, so a pharmacist can review the rules without reading Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clozapine import OrganisationProgram, Policy
from clozapine.organisation import organisation_finding_rows
from clozapine.policy import (
    AncBand,
    Citation,
    EpisodeRule,
    PolicyReview,
    PopulationRules,
    RoutineInterval,
)
from clozapine.review import overdue_message, review_overdue
from clozapine.vocabulary import Population

_POPULATION_WORDS = {Population.GENERAL: "general population", Population.BEN: "documented BEN"}
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One rule: its id, who it applies to, its thresholds, what it asks for, and its source."""

    rule_id: str
    applies_to: str
    thresholds: str
    action: str
    citation: str
    citation_url: str | None


@dataclass(frozen=True, slots=True)
class SheetSection:
    """A group of rows under a heading (ANC categories, routine schedule, ...), and the names of
    its middle columns."""

    title: str
    rows: tuple[SheetRow, ...]
    columns: tuple[str, str, str] = ("Applies to", "Thresholds", "Action")


_FINDING_COLUMNS = ("Finding code", "Severity", "Message (the engine fills the named fields)")


@dataclass(frozen=True, slots=True)
class PolicySheet:
    """One policy's rules: when it is in force, its review state (and which of its tables are
    past their review date on the sheet's date), its parameters and rows."""

    anchor: str
    policy_id: str
    title: str
    in_force: str
    review: PolicyReview | None
    parameters: tuple[str, ...]
    sections: tuple[SheetSection, ...]
    review_overdue: str | None = None
    overdue_tables: frozenset[str] = frozenset()


def _row(
    rule_id: str, applies_to: str, thresholds: str, action: str, citation: Citation
) -> SheetRow:
    return SheetRow(rule_id, applies_to, thresholds, action, str(citation), citation.url)


def _range(lower: int | None, upper: int | None, unit: str) -> str:
    if lower is None or lower == 0:
        return f"below {upper}{unit}" if upper is not None else "any"
    if upper is None:
        return f"{lower}{unit} or more"
    return f"{lower}{unit} or more, below {upper}{unit}"


def _every(frequency: str, interval_days: int) -> str:
    return f"{frequency.replace('-', ' ')} ANC (every {interval_days} day(s))"


def _band(band: AncBand) -> SheetRow:
    thresholds = "ANC " + _range(band.lower_per_ul, band.upper_per_ul, "/uL")
    action = f"category {band.category.value}"
    return _row(band.rule_id, _POPULATION_WORDS[band.population], thresholds, action, band.citation)


def _routine(interval: RoutineInterval) -> SheetRow:
    start, end = interval.from_day or 0, interval.to_day
    days = (
        f"treatment day {start} to {end - 1}" if end is not None else f"from treatment day {start}"
    )
    action = _every(interval.frequency.value, interval.interval_days)
    return _row(interval.rule_id, "ANC in the normal range", days, action, interval.citation)


def _episode(rules: PopulationRules, episode: EpisodeRule) -> list[SheetRow]:
    who = f"{_POPULATION_WORDS[episode.population]}, worst result {episode.worst.value}"
    notes = [
        note
        for note, applies in (
            ("hematology consultation until recovery", episode.hematology_consult),
            ("rechallenge only by the prescriber's judgement", episode.rechallenge_judgement),
            ("the recovery starts a new treatment episode", episode.restarts_treatment),
        )
        if applies
    ]
    starts = (
        f"starts at a result below {rules.normal_threshold_per_ul}/uL (the usable one before it,"
        " if any, at or above it); a first low result is confirmed by a repeat within"
        f" {rules.confirm_low_within_hours} hours"
    )
    notes.append("the steps below until the recovery result")
    rows = [_row(episode.rule_id, who, starts, "; ".join(notes), episode.citation)]
    for step in episode.steps:
        action = f"{_every(step.frequency.value, step.interval_days)}; {step.recommendation.value}"
        rows.append(
            _row(
                step.rule_id, who, f"latest ANC below {step.below_per_ul}/uL", action, step.citation
            )
        )
    recovery = episode.recovery_recommendation.value
    if episode.tail_days:
        tail = _every(episode.tail_frequency.value, episode.tail_interval_days)
        recovery += f"; then {tail} for {episode.tail_days} days"
    recovered = f"first result {rules.normal_threshold_per_ul}/uL or more"
    rows.append(_row(episode.recovery_rule_id, who, recovered, recovery, episode.citation))
    return rows


def _baseline(rules: PopulationRules) -> SheetRow:
    thresholds = (
        f"at least {rules.baseline_min_results} ANC(s) from {rules.baseline_window_days} days"
        f" before the start; the latest {rules.baseline_min_per_ul}/uL or more"
    )
    return _row(
        rules.baseline_rule_id,
        _POPULATION_WORDS[rules.population],
        thresholds,
        "otherwise do-not-start",
        rules.baseline_citation,
    )


def _findings(policy: Policy) -> tuple[SheetRow, ...]:
    ordered = sorted(
        policy.findings.values(),
        key=lambda rule: (_SEVERITY_ORDER[rule.severity.value], rule.code.value),
    )
    return tuple(
        _row(rule.rule_id, rule.code.value, rule.severity.value, rule.message, rule.citation)
        for rule in ordered
    )


def policy_sheet(policy: Policy, as_of: date) -> PolicySheet:
    """Every row of one policy's tables, grouped as the label groups them; `as_of` decides
    which tables are past their review date."""
    populations = (policy.general, policy.ben)
    sections = (
        SheetSection("ANC categories", tuple(_band(b) for r in populations for b in r.bands)),
        SheetSection("Routine schedule", tuple(_routine(i) for i in policy.routine)),
        SheetSection(
            "Low-result episodes",
            tuple(row for r in populations for e in r.episodes for row in _episode(r, e)),
        ),
        SheetSection("Baseline before a start", tuple(_baseline(r) for r in populations)),
        SheetSection(
            "Treatment interruption",
            (
                _row(
                    policy.treatment_gap_rule_id,
                    "both populations",
                    f"a gap of {policy.treatment_gap_days} days or more between covered periods",
                    "a new treatment episode: monitor as a new patient",
                    policy.treatment_gap_citation,
                ),
            ),
        ),
        SheetSection("Findings", _findings(policy), _FINDING_COLUMNS),
    )
    ends = policy.in_force_to.isoformat() if policy.in_force_to else "today"
    return PolicySheet(
        anchor=f"policy-{policy.review.policy}",
        policy_id=policy.policy_id,
        title=policy.title,
        in_force=f"{policy.in_force_from.isoformat()} to {ends}",
        review=policy.review,
        parameters=_program_parameters(policy),
        sections=sections,
        review_overdue=overdue_message(policy.review, as_of),
        overdue_tables=frozenset(
            table.name for table in policy.review.tables if review_overdue(table, as_of)
        ),
    )


def _program_parameters(policy: Policy) -> tuple[str, ...]:
    program = policy.program
    if program is None:
        return ()
    words = [f"registry records count from {program.program_start_on.isoformat()}"]
    if program.deadline_on is not None:
        words.append(f"transition deadline {program.deadline_on.isoformat()}")
    if program.enrollment_labs_window_days is not None:
        words.append(f"labs at enrollment: {program.enrollment_labs_window_days} days before it")
    if program.status_form_max_age_days is not None:
        words.append(f"Patient Status Form at most {program.status_form_max_age_days} days old")
    categories = ", ".join(sorted(c.value for c in program.rationale_categories))
    words.append(f"treatment rationale needed while the latest category is {categories}")
    return tuple(words)


def organisation_sheet(program: OrganisationProgram) -> PolicySheet:
    """The organisation's own program rows, from its settings file (its document, its review)."""

    def days(value: int | None, words: str) -> str:
        return f"{words}: {value} days" if value is not None else f"{words}: none"

    rows = sorted(
        organisation_finding_rows(program).values(),
        key=lambda rule: (_SEVERITY_ORDER[rule.severity.value], rule.code.value),
    )
    return PolicySheet(
        anchor=f"program-{program.program_id}",
        policy_id=program.program_id,
        title=program.name,
        in_force="on top of the policy in force, as the organisation's settings file says",
        review=None,
        parameters=(
            f"document: {program.document}",
            f"enrollment required: {'yes' if program.enrollment_required else 'no'}",
            days(program.enrollment_renewal_days, "enrollment renewal"),
            days(program.certification_renewal_days, "certification renewal"),
            days(program.anc_dispense_window_days, "ANC before dispensing"),
            "written back: " + (", ".join(c.value for c in program.writeback_findings) or "none"),
        ),
        sections=(
            SheetSection(
                "Program findings",
                tuple(
                    _row(r.rule_id, r.code.value, r.severity.value, r.message, r.citation)
                    for r in rows
                ),
                _FINDING_COLUMNS,
            ),
        ),
    )
