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
    overdue_message,
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
            "review_overdue": False,
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


NEXT_REVIEW = date(2027, 5, 25)  # every shipped table's next review


def test_review_past_its_next_review_date_is_said_in_the_json() -> None:
    facts = patient_facts_from_bundle(read_json(EXAMPLE.read_bytes()))[0]
    policy = POLICIES["us-label-2025"]
    on_the_day = evaluation_to_json(evaluate(facts, NEXT_REVIEW, policy))["policy_review"]
    assert on_the_day["review_overdue"] is False and on_the_day["overdue_message"] is None
    assert [t["review_overdue"] for t in on_the_day["tables"]] == [False, False, False]
    late = evaluation_to_json(evaluate(facts, date(2027, 5, 26), policy))["policy_review"]
    assert late["review_overdue"] is True
    assert [t["review_overdue"] for t in late["tables"]] == [True, True, True]
    assert late["status"] == AWAITING  # the sign-off state is said apart from the date
    assert late["overdue_message"] == (
        "The rules of policy us-label-2025 are past their review date: policy us-label-2025,"
        " ANC rules and findings were due for review on 2027-05-25."
    )


def test_review_past_its_date_changes_neither_overall_nor_findings() -> None:
    facts = patient_facts_from_bundle(read_json(EXAMPLE.read_bytes()))[0]
    policy = POLICIES["us-label-2025"]
    later = tuple(
        (name, replace(provenance, next_review=date(2030, 1, 1)))
        for name, provenance in reviewed_tables(policy.policy_id)
    )
    current = replace(policy, review=policy_review(policy.policy_id, later))
    as_of = date(2027, 6, 1)
    overdue, in_date = evaluate(facts, as_of, policy), evaluate(facts, as_of, current)
    made, made_in_date = evaluation_to_json(overdue), evaluation_to_json(in_date)
    assert made["policy_review"]["review_overdue"]
    assert not made_in_date["policy_review"]["review_overdue"]
    assert made["overall"] == made_in_date["overall"]
    assert made["findings"] == made_in_date["findings"]


def test_review_overdue_for_only_some_tables_names_those() -> None:
    late = replace(TABLE, next_review=date(2027, 1, 1))
    review = policy_review("p", (("ANC rules", TABLE), ("findings", late)))
    assert overdue_message(review, date(2027, 1, 1)) is None
    assert overdue_message(review, date(2027, 1, 2)) == (
        "The rules of policy p are past their review date: findings was due for review on"
        " 2027-01-01."
    )


def test_review_past_its_date_is_said_in_the_text_report() -> None:
    facts = patient_facts_from_bundle(read_json(EXAMPLE.read_bytes()))[0]
    policy = POLICIES["us-label-2025"]
    assert "past their review date" not in text_report(evaluate(facts, NEXT_REVIEW, policy))
    text = text_report(evaluate(facts, date(2027, 5, 26), policy))
    assert "  Rules review:    The rules of policy us-label-2025 await" in text
    assert (
        "  Review date:     The rules of policy us-label-2025 are past their review date:" in text
    )
