"""evaluate(): one patient's facts, an as-of date and a policy in; the evaluation out. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from clozapine.anc_derivation import anc_results
from clozapine.evaluation import AncSummary, Evaluation, Finding, Monitoring, Treatment
from clozapine.facts import AncResult, PatientFacts, ResultProblem, UnusableResult
from clozapine.finding_list import FindingList, when
from clozapine.low_results import LowResultReading, Phase, band_of, category_of, read_low_results
from clozapine.organisation import organisation_findings
from clozapine.policy import Policy, PopulationRules, RoutineInterval
from clozapine.program import program_findings
from clozapine.registry import Registry
from clozapine.standing import program_standing
from clozapine.treatment import (
    TreatmentEpisode,
    current_episode,
    current_order,
    treatment_episodes,
)
from clozapine.vocabulary import (
    Category,
    FindingCode,
    Frequency,
    MonitoringStatus,
    Overall,
    Population,
    Recommendation,
    Severity,
)

_ACTION_CATEGORIES = (Category.MODERATE, Category.SEVERE, Category.BEN_SEVERE)
_ATTENTION_CATEGORIES = (Category.MILD, Category.BEN_NEUTROPENIA)


@dataclass(frozen=True, slots=True)
class _Schedule:
    frequency: Frequency
    interval_days: int
    recommendation: Recommendation
    rule_ids: tuple[str, ...]


def evaluate(
    facts: PatientFacts, as_of: date, policy: Policy, registry: Registry | None = None
) -> Evaluation:
    """Evaluate one patient's clozapine monitoring on `as_of` under `policy`.

    Never raises for clinical data: what is missing or unusable becomes a finding.
    """
    population = Population.BEN if facts.ben_documented else Population.GENERAL
    rules = policy.rules_for(population)
    results, values, unusable = _results_by(facts, as_of)
    latest = results[-1] if results else None
    anc = None
    applied: list[str] = []
    if latest is not None:
        band = band_of(latest.value_per_ul, rules)
        applied.append(band.rule_id)
        anc = AncSummary(
            latest.value_per_ul,
            latest.collected_on,
            band.category,
            latest.derived,
            latest.comparator,
            latest.bound_per_ul,
        )
    episodes = treatment_episodes(facts.orders, policy.treatment_gap_days)
    episode = current_episode(episodes, as_of, policy.treatment_gap_days)
    if episode is None:
        return Evaluation(
            as_of,
            policy.policy_id,
            facts.patient,
            False,
            population,
            None,
            anc,
            Monitoring(None, None, None, MonitoringStatus.NOT_APPLICABLE, None),
            Recommendation.NOT_APPLICABLE,
            (),
            Overall.NOT_APPLICABLE,
            tuple(applied),
            program_standing(policy, registry, facts.patient, None, as_of),
            policy.review,
        )
    reading = read_low_results(results, rules, values)
    start_on, restarted = _episode_start(episode, reading)
    if len(episodes) > 1 or not episode.covers(as_of):
        applied.append(policy.treatment_gap_rule_id)
    findings = FindingList(policy)
    schedule = _schedule(policy, rules, reading, latest, start_on, as_of, findings)
    applied.extend(schedule.rule_ids)
    monitoring = _monitoring(schedule, latest, start_on, as_of, findings)
    recommendation = schedule.recommendation
    if not restarted and start_on >= as_of:
        applied.append(rules.baseline_rule_id)
        if _baseline_fails(rules, results, start_on, as_of, findings):
            recommendation = Recommendation.DO_NOT_START
    if recommendation is Recommendation.INTERRUPT:
        findings.add(
            FindingCode.INTERRUPT_RECOMMENDED,
            value=anc.shown if anc else "",
            category=anc.category.value if anc else "",
            on=latest.collected_on if latest else "",
            resume=_resume_text(rules, reading),
        )
    _result_problems(unusable, latest, findings)
    order = current_order(episode, as_of)
    standing = program_standing(policy, registry, facts.patient, order, as_of)
    program_findings(policy, facts, registry, order, results, anc, as_of, findings)
    if policy.organisation is not None:
        organisation_findings(policy.organisation, standing, anc, as_of, findings)
    if policy.policy_notice:
        findings.add(policy.policy_notice)
    ordered = findings.ordered()
    return Evaluation(
        as_of=as_of,
        policy=policy.policy_id,
        patient=facts.patient,
        on_clozapine=True,
        population=population,
        treatment=Treatment(start_on, (as_of - start_on).days),
        anc=anc,
        monitoring=monitoring,
        recommendation=recommendation,
        findings=ordered,
        overall=_overall(ordered, monitoring, recommendation, anc),
        rules_applied=tuple(dict.fromkeys([*applied, *(f.rule for f in ordered)])),
        standing=standing,
        review=policy.review,
    )


def _results_by(
    facts: PatientFacts, as_of: date
) -> tuple[list[AncResult], tuple[int, ...] | None, list[UnusableResult]]:
    """The usable ANCs (and their values, when already listed) and unusable results by as_of.

    Results collected after as_of are left out each by its own date before the results at one
    instant are merged, so ANCs are derived again when laboratory results run past as_of.
    """
    lab_through = facts.lab_results_through
    if lab_through is not None and lab_through > as_of:
        ancs, unusable = anc_results(r for r in facts.lab_results if r.collected_on <= as_of)
        ancs.sort(key=lambda r: r.collected_at)
        unusable.sort(key=lambda r: r.collected_at)
        return ancs, None, unusable
    through = facts.ancs_through
    if through is not None and through <= as_of:
        results, values = list(facts.ancs), facts.anc_values
    else:
        results, values = [r for r in facts.ancs if r.collected_on <= as_of], None
    return results, values, [p for p in facts.unusable if p.collected_on <= as_of]


def _episode_start(episode: TreatmentEpisode, reading: LowResultReading) -> tuple[date, bool]:
    """The episode start, moved later by the latest recovery after severe neutropenia."""
    for recovery in reading.restarting_recoveries:
        restart_on = episode.next_covered_on(recovery.collected_on)
        if restart_on is None:
            continue
        if restart_on > episode.start_on:
            return restart_on, True
        break
    return episode.start_on, False


def _routine(policy: Policy, day: int) -> RoutineInterval:
    for row in policy.routine:
        if (row.from_day is None or day >= row.from_day) and (
            row.to_day is None or day < row.to_day
        ):
            return row
    return policy.routine[-1]


def _schedule(
    policy: Policy,
    rules: PopulationRules,
    reading: LowResultReading,
    latest: AncResult | None,
    start_on: date,
    as_of: date,
    findings: FindingList,
) -> _Schedule:
    """The interval in force for the latest ANC, and the recommendation the ANC history gives."""
    schedule_on = latest.collected_on if latest is not None else as_of
    routine = _routine(policy, (schedule_on - start_on).days)
    low = reading.episode
    if low is None or latest is None:
        return _Schedule(
            routine.frequency, routine.interval_days, Recommendation.CONTINUE, (routine.rule_id,)
        )
    rule = low.rule
    if low.phase is Phase.UNRECOVERED and low.step is not None:
        if reading.first_low_is_latest:
            findings.add(
                FindingCode.LOW_ANC_UNCONFIRMED,
                threshold=rules.normal_threshold_per_ul,
                value=latest.shown,
                collected_at=when(latest.collected_at),
                repeat_by=when(
                    latest.collected_at, timedelta(hours=rules.confirm_low_within_hours)
                ),
                within_hours=rules.confirm_low_within_hours,
            )
        if rule.hematology_consult:
            findings.add(
                FindingCode.HEMATOLOGY_CONSULT_RECOMMENDED,
                worst=category_of(low.worst_value_per_ul, rules).value,
                episode_on=low.first.collected_on,
                worst_value=low.worst.shown if low.worst else low.worst_value_per_ul,
                threshold=rules.normal_threshold_per_ul,
            )
        if rule.rechallenge_judgement:
            findings.add(
                FindingCode.RECHALLENGE_REQUIRES_PRESCRIBER_JUDGEMENT,
                episode_on=low.first.collected_on,
            )
        step = low.step
        return _Schedule(
            step.frequency, step.interval_days, step.recommendation, (rule.rule_id, step.rule_id)
        )
    if low.phase is Phase.RECOVERY and rule.rechallenge_judgement:
        findings.add(
            FindingCode.RECHALLENGE_REQUIRES_PRESCRIBER_JUDGEMENT, episode_on=low.first.collected_on
        )
    recommendation = (
        rule.recovery_recommendation if low.phase is Phase.RECOVERY else Recommendation.CONTINUE
    )
    rule_ids = (rule.rule_id, rule.recovery_rule_id)
    if rule.tail_days:
        return _Schedule(rule.tail_frequency, rule.tail_interval_days, recommendation, rule_ids)
    return _Schedule(
        routine.frequency, routine.interval_days, recommendation, (*rule_ids, routine.rule_id)
    )


def _monitoring(
    schedule: _Schedule,
    latest: AncResult | None,
    start_on: date,
    as_of: date,
    findings: FindingList,
) -> Monitoring:
    frequency, interval = schedule.frequency, schedule.interval_days
    if start_on > as_of:
        return Monitoring(frequency, interval, start_on, MonitoringStatus.CURRENT, 0)
    if latest is None:
        findings.add(
            FindingCode.NO_ANC_ON_FILE,
            days_on_treatment=(as_of - start_on).days,
            frequency=frequency.value,
        )
        return Monitoring(frequency, interval, None, MonitoringStatus.NO_ANC_ON_FILE, None)
    next_due = latest.collected_on + timedelta(days=interval)
    label = frequency.value.replace("-", " ").capitalize()
    facts = dict(
        frequency=label,
        next_due=next_due,
        last_value=latest.shown,
        last_on=latest.collected_on,
    )
    if as_of < next_due:
        return Monitoring(frequency, interval, next_due, MonitoringStatus.CURRENT, 0)
    if as_of == next_due:
        findings.add(FindingCode.MONITORING_DUE, **facts)
        return Monitoring(frequency, interval, next_due, MonitoringStatus.DUE, 0)
    days_overdue = (as_of - next_due).days
    findings.add(FindingCode.MONITORING_OVERDUE, days_overdue=days_overdue, **facts)
    return Monitoring(frequency, interval, next_due, MonitoringStatus.OVERDUE, days_overdue)


def _baseline_fails(
    rules: PopulationRules,
    results: list[AncResult],
    start_on: date,
    as_of: date,
    findings: FindingList,
) -> bool:
    """Apply the baseline rules to a start on or after as_of; True when starting is not advised."""
    window_from = start_on - timedelta(days=rules.baseline_window_days)
    window_to = min(start_on, as_of)
    baseline = [r for r in results if window_from <= r.collected_on <= window_to]
    if not baseline:
        findings.add(
            FindingCode.BASELINE_MISSING,
            window_from=window_from,
            window_to=start_on,
            start_on=start_on,
        )
        return True
    fails = False
    if len(baseline) < rules.baseline_min_results:
        findings.add(
            FindingCode.BEN_BASELINE_INCOMPLETE,
            count=len(baseline),
            window_from=window_from,
            window_to=start_on,
        )
        fails = True
    last = baseline[-1]
    if last.value_per_ul < rules.baseline_min_per_ul:
        findings.add(
            FindingCode.BASELINE_BELOW_THRESHOLD,
            value=last.shown,
            on=last.collected_on,
            threshold=rules.baseline_min_per_ul,
        )
        fails = True
    return fails


def _resume_text(rules: PopulationRules, reading: LowResultReading) -> str:
    low = reading.episode
    if low is None:
        return ""
    if low.rule.restarts_treatment:
        return (
            "Do not rechallenge unless the benefit outweighs the risk; if rechallenged once the"
            f" ANC is {rules.normal_threshold_per_ul}/uL or more, monitor as a new patient."
        )
    interrupting = [s for s in low.rule.steps if s.recommendation is Recommendation.INTERRUPT]
    if not interrupting:
        return ""
    return f"Clozapine may be resumed once the ANC is {interrupting[-1].below_per_ul}/uL or more."


def _result_problems(
    unusable: list[UnusableResult], latest: AncResult | None, findings: FindingList
) -> None:
    """result-pending and unit-error, for results collected since the latest usable ANC."""
    recent = [
        problem
        for problem in unusable
        if latest is None or problem.collected_at >= latest.collected_at
    ]
    for kind in (ResultProblem.PENDING, ResultProblem.UNIT_ERROR):
        of_kind = [p for p in recent if p.problem is kind]
        if of_kind:
            newest = of_kind[-1]
            findings.add(
                FindingCode(kind.value),
                count=len(of_kind),
                collected_at=when(newest.collected_at),
                detail=newest.detail,
            )


def _overall(
    findings: tuple[Finding, ...],
    monitoring: Monitoring,
    recommendation: Recommendation,
    anc: AncSummary | None,
) -> Overall:
    severities = [f.severity for f in findings]
    category = anc.category if anc else None
    if (
        Severity.CRITICAL in severities
        or monitoring.status in (MonitoringStatus.OVERDUE, MonitoringStatus.NO_ANC_ON_FILE)
        or recommendation is Recommendation.DO_NOT_START
        or category in _ACTION_CATEGORIES
    ):
        return Overall.ACTION_REQUIRED
    if (
        Severity.WARNING in severities
        or monitoring.status is MonitoringStatus.DUE
        or category in _ATTENTION_CATEGORIES
    ):
        return Overall.ATTENTION
    return Overall.OK
