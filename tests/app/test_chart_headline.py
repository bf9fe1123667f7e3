"""The chart's headline names the latest ANC as reported: a bound keeps its comparator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from clozapine import AncResult, Evaluation, evaluate, policy_in_force
from clozapine.labs import Comparator
from smartapp.chart.headline import anc_words, headline
from tests.unit.cases import AS_OF, anc, day, facts, history


def _evaluated(latest: AncResult) -> Evaluation:
    return evaluate(
        facts([*history((2500, -20), (2400, -13)), latest]), AS_OF, policy_in_force(AS_OF)
    )


def _bound(comparator: Comparator, bound: int, read_as: int) -> AncResult:
    on = day(-1)
    return AncResult(
        read_as,
        on,
        datetime(on.year, on.month, on.day, 9, tzinfo=UTC),
        comparator=comparator,
        bound_per_ul=Decimal(bound),
    )


def test_headline_shows_the_comparator_of_a_bound() -> None:
    evaluation = _evaluated(_bound(Comparator.BELOW, 500, 499))
    assert evaluation.anc is not None and evaluation.anc.comparator is Comparator.BELOW
    assert anc_words(evaluation) == "ANC <500/µL, severe"
    assert headline(evaluation).action == "Interrupt clozapine: ANC <500/µL, severe"


def test_headline_without_a_comparator_shows_the_value() -> None:
    evaluation = _evaluated(anc(420, -1))
    assert evaluation.anc is not None and evaluation.anc.comparator is None
    assert headline(evaluation).action == "Interrupt clozapine: ANC 420/µL, severe"


def test_headline_keeps_an_at_most_bound_as_reported() -> None:
    evaluation = _evaluated(_bound(Comparator.AT_MOST, 1200, 1200))
    assert anc_words(evaluation) == "ANC <=1200/µL, mild"
    assert evaluation.anc is not None
    assert evaluation.anc.collected == AS_OF - timedelta(days=1)


def _all_clear() -> Evaluation:
    evaluation = _evaluated(anc(2300, -1))
    assert evaluation.overall.value == "ok" and evaluation.recommendation.value == "continue"
    return evaluation


def test_headline_of_an_all_clear_evaluation_is_the_all_clear() -> None:
    shown = headline(_all_clear())
    assert shown.status == "Monitoring up to date" and shown.css == "status-ok"
    assert shown.action.startswith("Monitoring is up to date")
    assert shown.recommendation == "Recommendation: Continue clozapine"


def test_headline_without_ben_status_is_never_the_all_clear() -> None:
    shown = headline(_all_clear(), ben_status_unknown=True)
    assert shown.status == "BEN status unknown" and shown.css == "status-attention"
    assert "up to date" not in shown.action.lower()
    assert "benign ethnic neutropenia" in shown.action and "general thresholds" in shown.action
    assert "continue" not in shown.recommendation.lower()
    assert "BEN status unknown" in shown.recommendation


def test_headline_without_ben_status_keeps_a_more_urgent_action() -> None:
    shown = headline(_evaluated(anc(420, -1)), ben_status_unknown=True)
    assert shown.action == "Interrupt clozapine: ANC 420/µL, severe"
    assert shown.css == "status-action"
    assert shown.recommendation.endswith("Interrupt clozapine")
    assert "general thresholds" in shown.recommendation
