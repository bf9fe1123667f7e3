"""Findings to the FHIR resources the app writes back: which, with what identity, in what shape."""

from fhir_mappings.outbound.resources import (
    BUILDERS,
    OPEN_STATUS,
    RETIRED_STATUS,
    Authorship,
    app_device,
    current_order_reference,
    practitioner_reference,
    reopened_resource,
    resource_from_target,
    retired_resource,
)
from fhir_mappings.outbound.targets import (
    DEFAULT_IDENTIFIER_SYSTEM,
    DEFAULT_WRITEBACK_FINDINGS,
    ENROLLMENT_FINDINGS,
    LAB_FINDINGS,
    FindingPeriod,
    WritebackTarget,
    finding_period,
    identifier_value,
    writeback_targets,
)

__all__ = [
    "BUILDERS",
    "DEFAULT_IDENTIFIER_SYSTEM",
    "DEFAULT_WRITEBACK_FINDINGS",
    "ENROLLMENT_FINDINGS",
    "LAB_FINDINGS",
    "OPEN_STATUS",
    "RETIRED_STATUS",
    "Authorship",
    "FindingPeriod",
    "WritebackTarget",
    "app_device",
    "current_order_reference",
    "finding_period",
    "identifier_value",
    "practitioner_reference",
    "reopened_resource",
    "resource_from_target",
    "retired_resource",
    "writeback_targets",
]
