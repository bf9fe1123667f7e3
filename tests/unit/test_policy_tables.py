"""Meta-tests on the policy tables: citations, provenance, bands that tile, rule ids exercised."""

from __future__ import annotations

import itertools
from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clozapine import POLICIES, evaluate
from clozapine.low_results import band_of
from clozapine.organisation import organisation_finding_rows
from clozapine.policy import Citation, Policy, PopulationRules
from tests.unit import (
    test_engine_anc,
    test_engine_organisation,
    test_engine_program,
    test_engine_treatment,
)

ALL_CASES = test_engine_anc.CASES + test_engine_treatment.CASES + test_engine_program.CASES


def _rows(value: Any) -> list[Any]:
    """Every dataclass row reachable from a policy that carries a rule id."""
    found = []
    if is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "rule_id"):
            found.append(value)
        for field in fields(value):
            found += _rows(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            found += _rows(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += _rows(item)
    return found


def _rule_ids(policy: Policy) -> set[str]:
    ids = {row.rule_id for row in _rows(policy)}
    ids |= {
        policy.treatment_gap_rule_id,
        policy.general.baseline_rule_id,
        policy.ben.baseline_rule_id,
    }
    ids |= {
        rule.recovery_rule_id for rules in (policy.general, policy.ben) for rule in rules.episodes
    }
    return ids


@pytest.mark.parametrize("policy", POLICIES.values(), ids=list(POLICIES))
def test_policy_every_row_has_a_citation(policy: Policy) -> None:
    for row in _rows(policy):
        citation = row.citation
        assert isinstance(citation, Citation), row.rule_id
        assert citation.document and citation.section, row.rule_id
        assert str(citation), row.rule_id


@pytest.mark.parametrize("policy", POLICIES.values(), ids=list(POLICIES))
def test_policy_has_provenance_header(policy: Policy) -> None:
    header = policy.provenance
    assert header.label_revision and header.authored_by and header.checked_by
    assert header.reviewed_on < header.next_review


@pytest.mark.parametrize("policy", POLICIES.values(), ids=list(POLICIES))
def test_policy_rule_ids_are_unique_per_row(policy: Policy) -> None:
    ids = [row.rule_id for row in _rows(policy)]
    rows_by_id: dict[str, Any] = {}
    for row in _rows(policy):
        assert rows_by_id.setdefault(row.rule_id, row) == row, f"{row.rule_id} names two rows"
    assert ids


@pytest.mark.parametrize(
    "rules",
    [POLICIES["us-label-2025"].general, POLICIES["us-label-2025"].ben],
    ids=["general", "ben"],
)
@given(value=st.integers(min_value=0, max_value=10**7))
def test_anc_bands_tile_the_number_line(rules: PopulationRules, value: int) -> None:
    matching = [band for band in rules.bands if band.contains(value)]
    assert len(matching) == 1
    assert band_of(value, rules) is matching[0]


@pytest.mark.parametrize("policy", POLICIES.values(), ids=list(POLICIES))
def test_anc_bands_are_contiguous_from_zero(policy: Policy) -> None:
    for rules in (policy.general, policy.ben):
        bands = sorted(rules.bands, key=lambda band: band.lower_per_ul)
        assert bands[0].lower_per_ul == 0 and bands[-1].upper_per_ul is None
        for lower, upper in itertools.pairwise(bands):
            assert lower.upper_per_ul == upper.lower_per_ul


def test_every_rule_id_is_exercised_by_a_test_case() -> None:
    exercised: dict[str, set[str]] = {policy_id: set() for policy_id in POLICIES}
    for case in ALL_CASES:
        evaluation = case.run()
        exercised[evaluation.policy] |= set(evaluation.rules_applied)
    label = POLICIES["us-label-2025"]
    missing = _rule_ids(label) - exercised["us-label-2025"]
    assert not missing, f"rule ids no test exercises under us-label-2025: {sorted(missing)}"
    for policy_id in ("us-rems-2015", "us-rems-2021"):
        program_ids = _rule_ids(POLICIES[policy_id]) - _rule_ids(label)
        missing = program_ids - exercised[policy_id]
        assert not missing, (
            f"program rule ids no test exercises under {policy_id}: {sorted(missing)}"
        )


@pytest.mark.parametrize("policy", POLICIES.values(), ids=list(POLICIES))
def test_severe_threshold_matches_the_restarting_bands(policy: Policy) -> None:
    for rules in (policy.general, policy.ben):
        restarting = {rule.worst for rule in rules.episodes if rule.restarts_treatment}
        uppers = {band.upper_per_ul for band in rules.bands if band.category in restarting}
        assert uppers == {rules.severe_below_per_ul}


def test_every_organisation_rule_id_is_exercised_by_a_test_case() -> None:
    organisation = test_engine_organisation
    exercised = set()
    for case in organisation.CASES:
        evaluation = evaluate(case.facts, case.as_of, organisation.POLICY, case.registry)
        exercised |= set(evaluation.rules_applied)
    rows = organisation_finding_rows(organisation.PROGRAM).values()
    missing = {row.rule_id for row in rows} - exercised
    assert not missing, f"organisation rule ids no test exercises: {sorted(missing)}"
