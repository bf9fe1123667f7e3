"""Until a pharmacist outside the authors signs each table off, every entry point says so."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from clozapine import POLICIES, evaluate, evaluation_to_json, with_organisation_program
from clozapine.policies import reviewed_tables
from clozapine.policy import Provenance, Signoff
from clozapine.review import (
    AUTHORING_TEAM,
    AWAITING,
    VERIFIED,
    policy_review,
    verifying_signoff,
)
from fhir_mappings import patient_facts_from_bundle, read_json
from smartapp.commands.text_report import text_report
from tests.conftest import PROJECT_ROOT
from tests.unit.test_engine_organisation import PROGRAM

EXAMPLE = PROJECT_ROOT / "examples" / "week-12-patient.json"
REVIEWED_ON = date(2026, 11, 25)
TABLE = Provenance(
    "label 6/2025", AUTHORING_TEAM, "checked in the team", REVIEWED_ON, date(2027, 5, 25)
)
PHARMACIST = Signoff("A. Reviewer", "Clinical pharmacist", "County Hospital pharmacy", REVIEWED_ON)


@pytest.mark.parametrize("policy", POLICIES.values(), ids=list(POLICIES))
def test_review_every_policy_awaits_pharmacist_verification_today(policy) -> None:
    review = policy.review
    assert review.status == AWAITING and not review.verified
    assert review.policy == policy.policy_id
    assert [t.name for t in review.tables] == [
        name for name, _ in reviewed_tables(policy.policy_id)
    ]
    assert all(t.provenance.signoffs == () and t.verified_by is None for t in review.tables)
    assert "await pharmacist verification" in review.message
    assert "ANC rules" in review.message and "findings" in review.message


@pytest.mark.parametrize(
    ("signoff", "counts"),
    [
        (PHARMACIST, True),
        (replace(PHARMACIST, signed_on=date(2026, 12, 1)), True),
        (replace(PHARMACIST, role="PharmD, pharmacist in psychiatry"), True),
        (replace(PHARMACIST, organisation=AUTHORING_TEAM), False),
        (
            replace(PHARMACIST, organisation=" clinical informatics, clozapine monitoring app "),
            False,
        ),
        (replace(PHARMACIST, organisation=""), False),
        (replace(PHARMACIST, role="Psychiatrist"), False),
        (replace(PHARMACIST, name=" "), False),
        # Signed before the table's last review: it covers rows that have since changed.
        (replace(PHARMACIST, signed_on=date(2026, 11, 24)), False),
    ],
)
def test_review_only_a_pharmacist_outside_the_authors_verifies_a_table(
    signoff: Signoff, counts: bool
) -> None:
    table = replace(TABLE, signoffs=(signoff,))
    assert (verifying_signoff(table) == signoff) is counts


def test_review_is_verified_only_when_every_table_is_signed_off() -> None:
    signed = replace(TABLE, signoffs=(PHARMACIST,))
    partly = policy_review("p", (("ANC rules", signed), ("findings", TABLE)))
    assert partly.status == AWAITING and not partly.verified
    assert "(findings)" in partly.message and "ANC rules" not in partly.message
    whole = policy_review("p", (("ANC rules", signed), ("findings", signed)))
    assert whole.status == VERIFIED and whole.verified
    assert (
        "A. Reviewer, Clinical pharmacist (County Hospital pharmacy), 2026-11-25" in whole.message
    )
    assert policy_review("p", ()).status == AWAITING


def test_review_is_added_to_the_evaluation_json_beside_the_contract_fields() -> None:
    facts = patient_facts_from_bundle(read_json(EXAMPLE.read_bytes()))[0]
    for policy in (
        POLICIES["us-label-2025"],
        with_organisation_program(POLICIES["us-label-2025"], PROGRAM),
    ):
        document = evaluation_to_json(evaluate(facts, REVIEWED_ON, policy))
        assert list(document)[-2:] == ["overall", "policy_review"]
        review = document["policy_review"]
        assert review["status"] == AWAITING and review["policy"] == "us-label-2025"
        assert [t["signed_off"] for t in review["tables"]] == [None, None, None]
        assert review["tables"][0] == {
            "table": "policy us-label-2025",
            "reviewed_on": "2026-11-25",
            "next_review": "2027-05-25",
            "signed_off": None,
        }


def test_review_in_the_command_json_and_text(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "smartapp.commands.cli", "evaluate", str(EXAMPLE)]
    as_of = ["--as-of", "2026-11-25"]
    done = subprocess.run([*command, *as_of], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["policy_review"]["status"] == AWAITING
    text = subprocess.run(
        [*command, *as_of, "--format", "text"], capture_output=True, text=True, check=True
    ).stdout
    assert (
        "  Rules review:    The rules of policy us-label-2025 await pharmacist verification" in text
    )


def test_review_of_an_evaluation_made_without_one_reads_as_awaiting() -> None:
    facts = patient_facts_from_bundle(read_json(EXAMPLE.read_bytes()))[0]
    made = replace(evaluate(facts, REVIEWED_ON, POLICIES["us-label-2025"]), review=None)
    review = evaluation_to_json(made)["policy_review"]
    assert review["status"] == AWAITING and review["tables"] == []
    assert "await pharmacist verification" in text_report(made)
