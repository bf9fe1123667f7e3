"""Which resource the app may write to this EHR: its CapabilityStatement and the granted scopes.

The issuer's configuration lists write-back resource types in order of preference (e.g. Flag,
Task, DocumentReference). The app writes the first one the EHR has and the sign-in granted
`create` on; a type passed over is named with the reason, so the page can say why it fell back
or why it cannot write at all. It never attempts a write without a write scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.outbound import BUILDERS
from launch import scopes_grant

# What each type is, in a prescriber's words.
RESOURCE_WORDS = {
    "Flag": "a chart flag (Flag)",
    "Task": "a task (Task)",
    "DocumentReference": "a clinical note (DocumentReference)",
    "Communication": "a message (Communication)",
}


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    """What the EHR offers: `types` from its CapabilityStatement (None when it could not be
    read), less the types its vendor profile (`vendor`, e.g. "Oracle Health") says are absent."""

    types: frozenset[str] | None
    conditional_create: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    vendor: str = "The EHR"

    def missing_because(self, resource_type: str) -> str | None:
        """Why the EHR lacks the type, naming who says so; None when it has it (or may)."""
        if resource_type in self.absent:
            return (
                f"{self.vendor}'s FHIR API has no {resource_type} resource"
                f" (the app's {self.vendor} profile)"
            )
        if self.types is not None and resource_type not in self.types:
            return f"the EHR's CapabilityStatement has no {resource_type} resource"
        return None

    def supports(self, resource_type: str) -> bool:
        """Whether the EHR has the type (unknown counts as yes: the write itself then decides)."""
        return self.missing_because(resource_type) is None


def server_capabilities(
    capability_json: FhirJson | None, absent: Iterable[str] = (), vendor: str = "The EHR"
) -> ServerCapabilities:
    """Types and conditional-create support from a CapabilityStatement (FHIR R4 `rest.resource`),
    with the types the vendor profile named `vendor` says are absent."""
    if not isinstance(capability_json, dict):
        return ServerCapabilities(None, absent=frozenset(absent), vendor=vendor)
    resources = [
        resource
        for rest in capability_json.get("rest") or []
        if isinstance(rest, dict)
        for resource in rest.get("resource") or []
        if isinstance(resource, dict) and isinstance(resource.get("type"), str)
    ]
    return ServerCapabilities(
        types=frozenset(r["type"] for r in resources),
        conditional_create=frozenset(r["type"] for r in resources if r.get("conditionalCreate")),
        absent=frozenset(absent),
        vendor=vendor,
    )


@dataclass(frozen=True, slots=True)
class WriteDecision:
    """The type to write (None: cannot write), whether conditionally, the types passed over,
    and whether the sign-in may search the type (to look for the identifier before creating
    where the EHR has no conditional create)."""

    resource_type: str | None
    conditional: bool = False
    passed_over: tuple[str, ...] = ()
    searchable: bool = True

    @property
    def can_write(self) -> bool:
        """Whether any write is possible."""
        return self.resource_type is not None

    @property
    def explanation(self) -> str:
        """Why the app writes what it writes, or why it cannot write; empty for the first choice."""
        reasons = "; ".join(self.passed_over)
        if self.resource_type is None:
            return (
                f"The app cannot write to this EHR's chart: {reasons or 'nothing is configured'}."
            )
        if not reasons:
            return ""
        return f"{reasons}; so the app writes {RESOURCE_WORDS[self.resource_type]} instead."


def decide(
    preferred: Sequence[str], server: ServerCapabilities, scopes: Sequence[str]
) -> WriteDecision:
    """The first preferred type the app can build, the EHR has, and the scopes allow creating."""
    passed_over: list[str] = []
    for resource_type in preferred:
        if resource_type not in BUILDERS:
            passed_over.append(f"the app does not write {resource_type}")
        elif (missing := server.missing_because(resource_type)) is not None:
            passed_over.append(missing)
        elif not scopes_grant(scopes, resource_type, "c"):
            passed_over.append(
                f"the sign-in did not grant permission to create {resource_type}"
                f" (scope patient/{resource_type}.c)"
            )
        else:
            conditional = resource_type in server.conditional_create
            searchable = scopes_grant(scopes, resource_type, "s")
            return WriteDecision(resource_type, conditional, tuple(passed_over), searchable)
    if not preferred:
        passed_over.append("this EHR's configuration lists no write-back resources")
    return WriteDecision(None, passed_over=tuple(passed_over))


def may_update(scopes: Sequence[str], resource_type: str) -> bool:
    """Whether the scopes allow reading and updating the type (to retire what the app wrote)."""
    return scopes_grant(scopes, resource_type, "r") and scopes_grant(scopes, resource_type, "u")
