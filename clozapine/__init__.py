"""The pure clozapine monitoring engine: typed facts and an as-of date in, an evaluation out.

Standard library only; no I/O and no clock. Policies are data tables with citations.
"""

from clozapine.engine import evaluate
from clozapine.evaluation import (
    AncSummary,
    Evaluation,
    Finding,
    Monitoring,
    Treatment,
    evaluation_to_json,
)
from clozapine.facts import (
    AncResult,
    ClozapineOrder,
    DataNote,
    PatientFacts,
    ResultProblem,
    UnusableResult,
)
from clozapine.organisation import with_organisation_program
from clozapine.policies import (
    EARLIEST_AS_OF,
    POLICIES,
    UnknownPolicyError,
    policy_by_id,
    policy_in_force,
)
from clozapine.policy import OrganisationProgram, Policy
from clozapine.registry import Registry, RegistryFormatError
from clozapine.standing import ProgramStanding
from clozapine.vocabulary import FindingCode

__all__ = [
    "EARLIEST_AS_OF",
    "POLICIES",
    "AncResult",
    "AncSummary",
    "ClozapineOrder",
    "DataNote",
    "Evaluation",
    "Finding",
    "FindingCode",
    "Monitoring",
    "OrganisationProgram",
    "PatientFacts",
    "Policy",
    "ProgramStanding",
    "Registry",
    "RegistryFormatError",
    "ResultProblem",
    "Treatment",
    "UnknownPolicyError",
    "UnusableResult",
    "evaluate",
    "evaluation_to_json",
    "policy_by_id",
    "policy_in_force",
    "with_organisation_program",
]
