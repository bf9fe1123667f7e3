"""SMART scopes: parse v1 and v2 resource scopes, check which ones grant a FHIR interaction.

SMART App Launch 2.2, "Scopes and Launch Context":
https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
v2 resource scopes are `(patient|user|system)/(Type|*).[c][r][u][d][s]` with the letters in that
order, optionally followed by `?param=value&...`; v1 scopes end in `.read`, `.write` or `.*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl


class Interaction(StrEnum):
    """A FHIR REST interaction, named by its SMART v2 permission letter."""

    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


V2_ORDER = "cruds"
V1_PERMISSIONS = {
    "read": frozenset("rs"),
    "write": frozenset("cud"),
    "*": frozenset(V2_ORDER),
}
CONTEXT_SCOPES = frozenset(
    {
        "launch",
        "launch/patient",
        "launch/encounter",
        "openid",
        "fhirUser",
        "profile",
        "offline_access",
        "online_access",
    }
)
_RESOURCE_SCOPE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]+)"
    r"\.(?P<perms>[a-z*]+)(?:\?(?P<query>.+))?$"
)


@dataclass(frozen=True, slots=True)
class ResourceScope:
    """One resource scope: who it speaks for, which type, which interactions, which filter."""

    text: str
    context: str
    resource_type: str
    permissions: frozenset[str]
    query: tuple[tuple[str, str], ...] = ()

    @property
    def is_patient(self) -> bool:
        return self.context == "patient"

    def covers(self, other: ResourceScope) -> bool:
        """Whether every access `other` grants is also granted by this scope."""
        return (
            self.context == other.context
            and self.resource_type in ("*", other.resource_type)
            and other.permissions <= self.permissions
            and set(self.query) <= set(other.query)
        )

    def grants(self, resource_type: str, interaction: Interaction) -> bool:
        return self.resource_type in ("*", resource_type) and interaction in self.permissions


def parse_resource_scope(text: str) -> ResourceScope | None:
    """Parse a v1 or v2 resource scope; None if `text` is not a well-formed one."""
    match = _RESOURCE_SCOPE.match(text)
    if not match:
        return None
    perms_text = match["perms"]
    if perms_text in V1_PERMISSIONS:
        if match["query"]:  # v1 had no query filters
            return None
        permissions = V1_PERMISSIONS[perms_text]
    elif _is_v2_permission_string(perms_text):
        permissions = frozenset(perms_text)
    else:
        return None
    query = tuple(sorted(parse_qsl(match["query"] or "", keep_blank_values=True)))
    return ResourceScope(text, match["context"], match["type"], permissions, query)


def _is_v2_permission_string(letters: str) -> bool:
    positions = [V2_ORDER.find(letter) for letter in letters]
    return bool(letters) and -1 not in positions and positions == sorted(set(positions))


def split_scope(scope: str | None) -> list[str]:
    return [item for item in (scope or "").split(" ") if item]


def resource_scopes(scope: str | None) -> list[ResourceScope]:
    """The well-formed resource scopes in a space-separated scope string."""
    parsed = (parse_resource_scope(item) for item in split_scope(scope))
    return [item for item in parsed if item is not None]


def is_known_scope(text: str) -> bool:
    return text in CONTEXT_SCOPES or parse_resource_scope(text) is not None


def allowed_subset(requested: str | None, registered: Iterable[str]) -> list[str]:
    """The requested scopes a client may be granted, in the order requested.

    A context scope must be registered as such; a resource scope must be covered by a registered
    resource scope (e.g. `patient/*.rs` covers `patient/Observation.rs` and `patient/Flag.read`
    does not cover `patient/Flag.c`).
    """
    registered = list(registered)
    registered_resources = [s for s in map(parse_resource_scope, registered) if s is not None]
    granted: list[str] = []
    for item in split_scope(requested):
        if item in granted:
            continue
        if item in CONTEXT_SCOPES:
            if item in registered:
                granted.append(item)
            continue
        wanted = parse_resource_scope(item)
        if wanted and any(have.covers(wanted) for have in registered_resources):
            granted.append(item)
    return granted


def granting_scopes(
    scopes: Iterable[ResourceScope], resource_type: str, interaction: Interaction
) -> list[ResourceScope]:
    """The scopes that allow `interaction` on `resource_type`."""
    return [scope for scope in scopes if scope.grants(resource_type, interaction)]
