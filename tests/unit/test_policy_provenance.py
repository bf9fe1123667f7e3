"""Every policy and every policy table carries its provenance as data, reviewed and dated."""

from __future__ import annotations

import pytest

from clozapine.policies import POLICIES, PROVENANCE
from clozapine.policy import Provenance
from clozapine.tables import anc_rules, findings

TABLES = {"anc_rules": anc_rules.PROVENANCE, "findings": findings.PROVENANCE}


@pytest.mark.parametrize(
    "provenance",
    [*PROVENANCE.values(), *TABLES.values()],
    ids=[*PROVENANCE, *TABLES],
)
def test_provenance_names_authors_checkers_and_review_dates(provenance: Provenance) -> None:
    assert provenance.label_revision.strip() and provenance.authored_by.strip()
    assert provenance.checked_by.strip()
    assert provenance.reviewed_on < provenance.next_review


def test_every_policy_uses_its_own_provenance_row() -> None:
    assert set(PROVENANCE) == set(POLICIES)
    for policy_id, policy in POLICIES.items():
        assert policy.provenance is PROVENANCE[policy_id]
