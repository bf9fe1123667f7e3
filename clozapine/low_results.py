"""Low-result episodes: runs of ANCs below the population's normal threshold, and their recovery."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from clozapine.facts import AncResult
from clozapine.policy import AncBand, EpisodeRule, EpisodeStep, PopulationRules
from clozapine.vocabulary import Category


class Phase(enum.Enum):
    """Where the latest ANC stands in the current low-result episode."""

    UNRECOVERED = "unrecovered"
    RECOVERY = "recovery"
    TAIL = "tail"


@dataclass(frozen=True, slots=True)
class LowEpisode:
    """The low-result episode that governs the latest ANC (recovery result and tail included)."""

    rule: EpisodeRule
    first: AncResult
    worst_value_per_ul: int
    phase: Phase
    recovery: AncResult | None
    step: EpisodeStep | None
    worst: AncResult | None = None


@dataclass(frozen=True, slots=True)
class LowResultReading:
    """What the ANC history says: the governing episode and recoveries that restart treatment."""

    episode: LowEpisode | None
    first_low_is_latest: bool
    restarting_recoveries: tuple[AncResult, ...]


def band_of(value_per_ul: int, rules: PopulationRules) -> AncBand:
    """The population's band for a rounded ANC (bands tile the number line from 0)."""
    for band in rules.bands:
        upper = band.upper_per_ul
        if band.lower_per_ul <= value_per_ul and (upper is None or value_per_ul < upper):
            return band
    return rules.bands[0]


def category_of(value_per_ul: int, rules: PopulationRules) -> Category:
    """The population's category for a rounded ANC."""
    return band_of(value_per_ul, rules).category


def episode_rule_for(worst_per_ul: int, rules: PopulationRules) -> EpisodeRule:
    """The episode row for a run whose lowest value is `worst_per_ul`."""
    category = band_of(worst_per_ul, rules).category
    for rule in rules.episodes:
        if rule.worst is category:
            return rule
    raise LookupError(f"no episode row for {category.value} in {rules.population.value}")


def read_low_results(
    results: list[AncResult], rules: PopulationRules, values: Sequence[int] | None = None
) -> LowResultReading:
    """Find each run of low results, its worst value and recovery, and the one that governs now.

    A run starts at a result below the threshold whose previous result was at or above it; the
    recovery result is the first later one at or above it. Runs are read over all usable results,
    whatever the treatment episodes. `values` may pass the results' values already listed.
    """
    threshold = rules.normal_threshold_per_ul
    if values is None:
        values = [result.value_per_ul for result in results]
    lowest = min(values, default=threshold)
    if lowest >= threshold:
        return _NO_LOW_RESULTS
    last = len(values) - 1
    end = last
    while values[end] >= threshold:
        end -= 1
    start = end
    while start > 0 and values[start - 1] < threshold:
        start -= 1
    worst = min(values[start : end + 1])
    restarting: tuple[AncResult, ...] = ()
    if lowest < rules.severe_below_per_ul:
        ends = _severe_run_ends(values, threshold, rules.severe_below_per_ul)
        restarting = tuple(results[run_end + 1] for run_end in reversed(ends) if run_end < last)
    governing = _governing(results, start, end, episode_rule_for(worst, rules), worst)
    return LowResultReading(governing, start == last, restarting)


_NO_LOW_RESULTS = LowResultReading(None, False, ())


def _severe_run_ends(values: Sequence[int], threshold: int, severe_below: int) -> list[int]:
    """Last index of each run below `threshold` that holds a value below `severe_below`."""
    ends: list[int] = []
    for index, value in enumerate(values):
        if value < severe_below and (not ends or index > ends[-1]):
            end = index
            while end + 1 < len(values) and values[end + 1] < threshold:
                end += 1
            ends.append(end)
    return ends


def _governing(
    results: list[AncResult], start: int, end: int, rule: EpisodeRule, worst: int
) -> LowEpisode | None:
    latest = results[-1]
    last = len(results) - 1
    if end == last:
        step = next(s for s in rule.steps if latest.value_per_ul < s.below_per_ul)
        lowest = min(results[start : end + 1], key=lambda r: r.value_per_ul)
        return LowEpisode(rule, results[start], worst, Phase.UNRECOVERED, None, step, lowest)
    recovery = results[end + 1]
    if end + 1 == last:
        return LowEpisode(rule, results[start], worst, Phase.RECOVERY, recovery, None)
    tail_ends_on = recovery.collected_on + timedelta(days=rule.tail_days)
    if rule.tail_days and latest.collected_on < tail_ends_on:
        return LowEpisode(rule, results[start], worst, Phase.TAIL, recovery, None)
    return None
