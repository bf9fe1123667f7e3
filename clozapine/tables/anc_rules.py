"""ANC rows of the prescribing information: categories, routine schedule, low-result episodes.

One table per label revision; the numbers are the same since 2015 (clozapine-monitoring.md 0.3),
only the sections they sit in moved. Bands are half-open: lower bound inclusive, upper exclusive.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from clozapine.policy import (
    AncBand,
    Citation,
    EpisodeRule,
    EpisodeStep,
    PopulationRules,
    Provenance,
    RoutineInterval,
)
from clozapine.tables.sources import CONTRACT, LabelSections
from clozapine.vocabulary import Category, Frequency, Population, Recommendation

GENERAL_NORMAL_PER_UL = 1500
BEN_NORMAL_PER_UL = 1000
SEVERE_BELOW_PER_UL = 500  # severe and BEN severe neutropenia, both populations
# The tables' footnote: confirm every initial report of a low ANC with a repeat within 24 hours
# (label Tables 1 and 2, 6/2025; the REMS-era Tables 2 and 3), rule LOW-CONFIRM-24H.
CONFIRM_LOW_WITHIN_HOURS = 24
TAIL_DAYS = 28  # "weekly for 4 weeks" after recovery (moderate; BEN neutropenia)
BASELINE_WINDOW_DAYS = 30  # baseline ANCs count from 30 days before the start (contract)

# Who wrote and checked these rows, and when they are next reviewed (openprescribing's fields).
PROVENANCE = Provenance(
    label_revision="Clozaril prescribing information 6/2025 and REMS era (9/2015 onward)",
    authored_by="Clinical informatics, clozapine monitoring app",
    checked_by="awaiting pharmacist sign-off (open items: clozapine-monitoring.md section 7)",
    reviewed_on=date(2026, 11, 25),
    next_review=date(2027, 5, 25),
)


def _noted(citation: Citation, convention: str) -> Citation:
    return replace(citation, convention=f"{CONTRACT}: {convention}")


def routine_schedule(label: LabelSections) -> tuple[RoutineInterval, ...]:
    """Weekly to 6 months, every 2 weeks to 12 months, then monthly (both populations)."""
    cite = _noted(label.general_table, "6 months = day 182, 12 months = day 365, monthly = 30 d")
    return (
        RoutineInterval("SCHED-WEEKLY", None, 182, Frequency.WEEKLY, 7, cite),
        RoutineInterval("SCHED-EVERY-2-WEEKS", 182, 365, Frequency.EVERY_2_WEEKS, 14, cite),
        RoutineInterval("SCHED-MONTHLY", 365, None, Frequency.MONTHLY, 30, cite),
    )


def general_rules(label: LabelSections) -> PopulationRules:
    """General population: label Table 1 (6/2025) or Table 2 (REMS era)."""
    table = label.general_table
    bands_cite = _noted(table, "values rounded to whole cells/uL, halves up")
    gp = Population.GENERAL
    return PopulationRules(
        population=gp,
        normal_threshold_per_ul=GENERAL_NORMAL_PER_UL,
        severe_below_per_ul=SEVERE_BELOW_PER_UL,
        bands=(
            AncBand("ANC-GP-SEVERE", gp, 0, 500, Category.SEVERE, bands_cite),
            AncBand("ANC-GP-MODERATE", gp, 500, 1000, Category.MODERATE, bands_cite),
            AncBand("ANC-GP-MILD", gp, 1000, 1500, Category.MILD, bands_cite),
            AncBand("ANC-GP-NORMAL", gp, 1500, None, Category.NORMAL, bands_cite),
        ),
        episodes=(
            EpisodeRule(
                rule_id="EPI-GP-MILD",
                population=gp,
                worst=Category.MILD,
                steps=(
                    EpisodeStep(
                        "EPI-GP-MILD-3W",
                        1500,
                        Frequency.THREE_TIMES_WEEKLY,
                        3,
                        Recommendation.CONTINUE,
                        table,
                    ),
                ),
                recovery_rule_id="EPI-GP-MILD-RECOVERY",
                recovery_recommendation=Recommendation.CONTINUE,
                tail_days=0,
                tail_frequency=Frequency.WEEKLY,
                tail_interval_days=7,
                restarts_treatment=False,
                hematology_consult=False,
                rechallenge_judgement=False,
                citation=table,
            ),
            EpisodeRule(
                rule_id="EPI-GP-MOD",
                population=gp,
                worst=Category.MODERATE,
                steps=(
                    EpisodeStep(
                        "EPI-GP-MOD-DAILY",
                        1000,
                        Frequency.DAILY,
                        1,
                        Recommendation.INTERRUPT,
                        table,
                    ),
                    EpisodeStep(
                        "EPI-GP-MOD-3W",
                        1500,
                        Frequency.THREE_TIMES_WEEKLY,
                        3,
                        Recommendation.RESUME_ALLOWED,
                        table,
                    ),
                ),
                recovery_rule_id="EPI-GP-MOD-TAIL",
                recovery_recommendation=Recommendation.CONTINUE,
                tail_days=TAIL_DAYS,
                tail_frequency=Frequency.WEEKLY,
                tail_interval_days=7,
                restarts_treatment=False,
                hematology_consult=True,
                rechallenge_judgement=False,
                citation=_noted(table, "the 4 weekly checks run 28 days from the recovery ANC"),
            ),
            EpisodeRule(
                rule_id="EPI-GP-SEV",
                population=gp,
                worst=Category.SEVERE,
                steps=(
                    EpisodeStep(
                        "EPI-GP-SEV-DAILY",
                        1000,
                        Frequency.DAILY,
                        1,
                        Recommendation.INTERRUPT,
                        table,
                    ),
                    EpisodeStep(
                        "EPI-GP-SEV-3W",
                        1500,
                        Frequency.THREE_TIMES_WEEKLY,
                        3,
                        Recommendation.INTERRUPT,
                        table,
                    ),
                ),
                recovery_rule_id="EPI-GP-SEV-RECOVERY",
                recovery_recommendation=Recommendation.RESUME_ALLOWED,
                tail_days=0,
                tail_frequency=Frequency.WEEKLY,
                tail_interval_days=7,
                restarts_treatment=True,
                hematology_consult=True,
                rechallenge_judgement=True,
                citation=_noted(table, "a rechallenge is monitored as a new patient"),
            ),
        ),
        baseline_min_per_ul=GENERAL_NORMAL_PER_UL,
        baseline_min_results=1,
        baseline_window_days=BASELINE_WINDOW_DAYS,
        baseline_rule_id="BASELINE-GP",
        baseline_citation=_noted(label.baseline, "baseline window 30 days before the start"),
        confirm_low_within_hours=CONFIRM_LOW_WITHIN_HOURS,
    )


def ben_rules(label: LabelSections) -> PopulationRules:
    """Documented BEN: label Table 2 (6/2025) or Table 3 (REMS era)."""
    table = label.ben_table
    bands_cite = _noted(table, "values rounded to whole cells/uL, halves up")
    ben = Population.BEN
    return PopulationRules(
        population=ben,
        normal_threshold_per_ul=BEN_NORMAL_PER_UL,
        severe_below_per_ul=SEVERE_BELOW_PER_UL,
        bands=(
            AncBand("ANC-BEN-SEVERE", ben, 0, 500, Category.BEN_SEVERE, bands_cite),
            AncBand("ANC-BEN-NEUTROPENIA", ben, 500, 1000, Category.BEN_NEUTROPENIA, bands_cite),
            AncBand("ANC-BEN-NORMAL", ben, 1000, None, Category.BEN_NORMAL, bands_cite),
        ),
        episodes=(
            EpisodeRule(
                rule_id="EPI-BEN-NEUT",
                population=ben,
                worst=Category.BEN_NEUTROPENIA,
                steps=(
                    EpisodeStep(
                        "EPI-BEN-NEUT-3W",
                        1000,
                        Frequency.THREE_TIMES_WEEKLY,
                        3,
                        Recommendation.CONTINUE,
                        table,
                    ),
                ),
                recovery_rule_id="EPI-BEN-NEUT-TAIL",
                recovery_recommendation=Recommendation.CONTINUE,
                tail_days=TAIL_DAYS,
                tail_frequency=Frequency.WEEKLY,
                tail_interval_days=7,
                restarts_treatment=False,
                hematology_consult=True,
                rechallenge_judgement=False,
                citation=_noted(
                    table,
                    "recovery at 1000/uL (the lower of 1000 and the patient's baseline);"
                    " the 4 weekly checks run 28 days from the recovery ANC",
                ),
            ),
            EpisodeRule(
                rule_id="EPI-BEN-SEV",
                population=ben,
                worst=Category.BEN_SEVERE,
                steps=(
                    EpisodeStep(
                        "EPI-BEN-SEV-DAILY",
                        500,
                        Frequency.DAILY,
                        1,
                        Recommendation.INTERRUPT,
                        table,
                    ),
                    EpisodeStep(
                        "EPI-BEN-SEV-3W",
                        1000,
                        Frequency.THREE_TIMES_WEEKLY,
                        3,
                        Recommendation.INTERRUPT,
                        table,
                    ),
                ),
                recovery_rule_id="EPI-BEN-SEV-RECOVERY",
                recovery_recommendation=Recommendation.RESUME_ALLOWED,
                tail_days=0,
                tail_frequency=Frequency.WEEKLY,
                tail_interval_days=7,
                restarts_treatment=True,
                hematology_consult=True,
                rechallenge_judgement=True,
                citation=_noted(table, "recovery at 1000/uL; a rechallenge is a new patient"),
            ),
        ),
        baseline_min_per_ul=BEN_NORMAL_PER_UL,
        baseline_min_results=2,
        baseline_window_days=BASELINE_WINDOW_DAYS,
        baseline_rule_id="BASELINE-BEN",
        baseline_citation=_noted(
            label.baseline, "at least two baseline ANCs within 30 days; the latest >= 1000/uL"
        ),
        confirm_low_within_hours=CONFIRM_LOW_WITHIN_HOURS,
    )
