"""Whether a policy's tables are verified: a pharmacist outside the authors has signed each off.

The rows were written and checked by the team that builds the app; until a pharmacist outside
that team signs a table off against the current label text (clozapine-monitoring.md, section 7),
every entry point says its rules await pharmacist verification. A sign-off counts only when it
is dated on or after the table's last review (an older one covers rows since changed). A table
whose `next_review` date the as-of date has passed is said to be past its review date, whether
signed off or not; that is said beside the evaluation and never changes its findings.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from clozapine.policy import PolicyReview, Provenance, ReviewedTable, Signoff

AWAITING = "awaiting-pharmacist-verification"
VERIFIED = "pharmacist-verified"
AUTHORING_TEAM = "Clinical informatics, clozapine monitoring app"


def verifying_signoff(provenance: Provenance) -> Signoff | None:
    """The latest sign-off that verifies the table, if any: a pharmacist's, from outside the
    authoring team, on or after the table's last review."""
    counting = [
        signoff
        for signoff in provenance.signoffs
        if signoff.name.strip()
        and "pharmacist" in signoff.role.casefold()
        and _outside(signoff.organisation, provenance.authored_by)
        and signoff.signed_on >= provenance.reviewed_on
    ]
    return max(counting, key=lambda signoff: signoff.signed_on, default=None)


def policy_review(policy_id: str, tables: tuple[tuple[str, Provenance], ...]) -> PolicyReview:
    """The review state of a policy made of these (name, provenance) tables."""
    reviewed = tuple(
        ReviewedTable(name, provenance, verifying_signoff(provenance))
        for name, provenance in tables
    )
    awaiting = [table.name for table in reviewed if table.verified_by is None]
    if awaiting or not reviewed:
        message = (
            f"The rules of policy {policy_id} await pharmacist verification: no pharmacist"
            " outside the authoring team has signed off its tables"
            f" ({', '.join(awaiting) or 'none recorded'})."
        )
        return PolicyReview(AWAITING, policy_id, reviewed, message)
    signed = "; ".join(
        f"{table.name} by {_who(table.verified_by)}"
        for table in reviewed
        if table.verified_by is not None
    )
    return PolicyReview(VERIFIED, policy_id, reviewed, f"Verified: {signed}.")


def review_overdue(table: ReviewedTable, as_of: date) -> bool:
    """Whether `as_of` is past the table's next review date (on the date itself it is not)."""
    return as_of > table.provenance.next_review


def overdue_message(review: PolicyReview, as_of: date) -> str | None:
    """What says the policy's tables are past their review date on `as_of`; None when none is."""
    late = [table for table in review.tables if review_overdue(table, as_of)]
    if not late:
        return None
    by_date: dict[date, list[str]] = {}
    for table in late:
        by_date.setdefault(table.provenance.next_review, []).append(table.name)
    dues = "; ".join(
        f"{_listed(names)} {'was' if len(names) == 1 else 'were'} due for review on {day}"
        for day, names in sorted(by_date.items())
    )
    return f"The rules of policy {review.policy} are past their review date: {dues}."


def review_summary(review: PolicyReview, as_of: date) -> str:
    """The review state in one sentence or two: verified or awaiting, then past its date."""
    overdue = overdue_message(review, as_of)
    return f"{review.message} {overdue}" if overdue else review.message


def policy_review_to_json(review: PolicyReview, as_of: date) -> dict[str, Any]:
    """The `policy_review` object added to the evaluation's JSON: the sign-off state, and
    whether `as_of` is past the tables' review dates."""
    overdue = overdue_message(review, as_of)
    return {
        "status": review.status,
        "policy": review.policy,
        "message": review.message,
        "review_overdue": overdue is not None,
        "overdue_message": overdue,
        "tables": [
            {
                "table": table.name,
                "reviewed_on": table.provenance.reviewed_on.isoformat(),
                "next_review": table.provenance.next_review.isoformat(),
                "review_overdue": review_overdue(table, as_of),
                "signed_off": None
                if table.verified_by is None
                else {
                    "name": table.verified_by.name,
                    "role": table.verified_by.role,
                    "organisation": table.verified_by.organisation,
                    "signed_on": table.verified_by.signed_on.isoformat(),
                },
            }
            for table in review.tables
        ],
    }


def _outside(organisation: str, authored_by: str) -> bool:
    """True when the reviewer's organisation is neither the table's authors nor the app's team."""
    theirs = organisation.strip().casefold()
    return bool(theirs) and theirs not in {
        authored_by.strip().casefold(),
        AUTHORING_TEAM.casefold(),
    }


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _who(signoff: Signoff | None) -> str:
    if signoff is None:
        return "nobody"
    return f"{signoff.name}, {signoff.role} ({signoff.organisation}), {signoff.signed_on}"
