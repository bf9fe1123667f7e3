"""Whether a policy's tables are verified: a pharmacist outside the authors has signed each off.

The rows were written and checked by the team that builds the app; until a pharmacist outside
that team signs a table off against the current label text (clozapine-monitoring.md, section 7),
every entry point says its rules await pharmacist verification. A sign-off counts only when it
is dated on or after the table's last review (an older one covers rows since changed).
"""

from __future__ import annotations

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


def policy_review_to_json(review: PolicyReview) -> dict[str, Any]:
    """The `policy_review` object added to the evaluation's JSON."""
    return {
        "status": review.status,
        "policy": review.policy,
        "message": review.message,
        "tables": [
            {
                "table": table.name,
                "reviewed_on": table.provenance.reviewed_on.isoformat(),
                "next_review": table.provenance.next_review.isoformat(),
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


def _who(signoff: Signoff | None) -> str:
    if signoff is None:
        return "nobody"
    return f"{signoff.name}, {signoff.role} ({signoff.organisation}), {signoff.signed_on}"
