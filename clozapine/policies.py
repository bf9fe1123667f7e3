"""The dated policies (us-rems-2015, us-rems-2021, us-label-2025) and the one in force on a date."""

from __future__ import annotations

from datetime import date

from clozapine.policy import FindingRule, Policy, ProgramRules, Provenance
from clozapine.review import AUTHORING_TEAM, policy_review
from clozapine.tables import anc_rules, findings
from clozapine.tables.sources import LABEL_2025, LABEL_REMS_ERA, LabelSections
from clozapine.vocabulary import Category, FindingCode

EARLIEST_AS_OF = date(2015, 10, 12)


_AUTHORED_BY = AUTHORING_TEAM
_AWAITING = "awaiting pharmacist sign-off (open items: clozapine-monitoring.md section 7)"
_REMS_LABEL = "Clozaril prescribing information, REMS era (9/2015 onward)"
# Each policy's provenance (openprescribing's fields), as reviewable rows. A reviewer's sign-off
# is added to a row's `signoffs` as Signoff(name, role, organisation, signed_on); none yet.
PROVENANCE: dict[str, Provenance] = {
    "us-rems-2015": Provenance(
        _REMS_LABEL, _AUTHORED_BY, _AWAITING, date(2026, 11, 25), date(2027, 5, 25)
    ),
    "us-rems-2021": Provenance(
        _REMS_LABEL, _AUTHORED_BY, _AWAITING, date(2026, 11, 25), date(2027, 5, 25)
    ),
    "us-label-2025": Provenance(
        "Clozaril prescribing information 6/2025",
        _AUTHORED_BY,
        _AWAITING,
        date(2026, 11, 25),
        date(2027, 5, 25),
    ),
}


def reviewed_tables(policy_id: str) -> tuple[tuple[str, Provenance], ...]:
    """The tables a policy is made of, by the names the rules sheet gives them."""
    return (
        (f"policy {policy_id}", PROVENANCE[policy_id]),
        ("ANC rules", anc_rules.PROVENANCE),
        ("findings", findings.PROVENANCE),
    )


_RATIONALE = frozenset({Category.MODERATE, Category.SEVERE, Category.BEN_SEVERE})


def _policy(
    policy_id: str,
    title: str,
    label: LabelSections,
    in_force: tuple[date, date | None],
    program: ProgramRules | None,
    extra_findings: dict[FindingCode, FindingRule],
    notice: FindingCode | None,
) -> Policy:
    return Policy(
        policy_id=policy_id,
        title=title,
        in_force_from=in_force[0],
        in_force_to=in_force[1],
        provenance=PROVENANCE[policy_id],
        review=policy_review(policy_id, reviewed_tables(policy_id)),
        general=anc_rules.general_rules(label),
        ben=anc_rules.ben_rules(label),
        routine=anc_rules.routine_schedule(label),
        treatment_gap_days=30,
        treatment_gap_rule_id="TX-INTERRUPTION-30D",
        treatment_gap_citation=label.interruption,
        findings={**findings.label_findings(label), **extra_findings},
        program=program,
        policy_notice=notice,
    )


US_REMS_2015 = _policy(
    "us-rems-2015",
    "Clozapine REMS",
    LABEL_REMS_ERA,
    (EARLIEST_AS_OF, date(2021, 11, 14)),
    ProgramRules(
        program_start_on=date(2015, 10, 12),
        deadline_on=None,
        enrollment_labs_window_days=None,
        status_form_max_age_days=None,
        rationale_categories=_RATIONALE,
    ),
    findings.rems_2015_findings(),
    None,
)

US_REMS_2021 = _policy(
    "us-rems-2021",
    "modified Clozapine REMS (2021)",
    LABEL_REMS_ERA,
    (date(2021, 11, 15), date(2025, 2, 23)),
    ProgramRules(
        program_start_on=date(2021, 8, 16),
        deadline_on=date(2021, 12, 22),
        enrollment_labs_window_days=30,
        status_form_max_age_days=37,
        rationale_categories=_RATIONALE,
    ),
    findings.rems_2021_findings(),
    None,
)

US_LABEL_2025 = _policy(
    "us-label-2025",
    "Prescribing information (no REMS)",
    LABEL_2025,
    (date(2025, 2, 24), None),
    None,
    findings.label_2025_findings(),
    FindingCode.REMS_ELIMINATED,
)

POLICIES: dict[str, Policy] = {
    policy.policy_id: policy for policy in (US_REMS_2015, US_REMS_2021, US_LABEL_2025)
}


class UnknownPolicyError(ValueError):
    """No policy has this id, or no policy is in force on this date."""


def policy_in_force(as_of: date) -> Policy:
    """The policy in force on a date; dates before 2015-10-12 have none."""
    for policy in POLICIES.values():
        ends = policy.in_force_to
        if policy.in_force_from <= as_of and (ends is None or as_of <= ends):
            return policy
    raise UnknownPolicyError(f"no policy is in force on {as_of.isoformat()} (earliest 2015-10-12)")


def policy_by_id(policy_id: str) -> Policy:
    """A policy by its id; raises UnknownPolicyError naming the known ids."""
    try:
        return POLICIES[policy_id]
    except KeyError:
        known = ", ".join(POLICIES)
        raise UnknownPolicyError(f"unknown policy {policy_id!r} (known: {known})") from None
