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
