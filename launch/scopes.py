"""SMART scopes: parse v1 and v2 resource scopes, answer what they grant, compose scope strings.

SMART App Launch 2.2, "Scopes and Launch Context":
https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "INTERACTIONS",
    "ResourceScope",
    "ScopeVersion",
    "join_scopes",
    "parse_resource_scope",
    "scopes_grant",
    "split_scopes",
    "to_v1",
]

# v2 permission letters, in the order the spec writes them (create, read, update, delete, search).
INTERACTIONS = "cruds"
# The v1 permissions as v2 letters ("Scopes for requesting FHIR resources", v1 equivalence table).
V1_PERMISSIONS = {"read": frozenset("rs"), "write": frozenset("cud"), "*": frozenset("cruds")}

_RESOURCE_SCOPE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]*)\.(?P<perms>\*|[a-z]+)"
    r"(?:\?(?P<query>.+))?$"
)


class ScopeVersion(StrEnum):
    """SMART scope syntax: v1 (`.read`/`.write`) or v2 (`.cruds`)."""

    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True, slots=True)
class ResourceScope:
    """One resource scope, e.g. `patient/Observation.rs?category=laboratory`."""

    context: str
    resource_type: str
    interactions: frozenset[str]
    version: ScopeVersion
    query: str | None = None

    def grants(self, resource_type: str, interaction: str) -> bool:
        """Whether this scope allows `interaction` (one of c r u d s) on `resource_type`."""
        return self.resource_type in ("*", resource_type) and interaction in self.interactions


def split_scopes(text: str | Iterable[str]) -> tuple[str, ...]:
    """Scope tokens from a space-separated string (or an iterable), duplicates dropped."""
    tokens = text.split() if isinstance(text, str) else [t for item in text for t in item.split()]
    return tuple(dict.fromkeys(tokens))


def join_scopes(*groups: str | Iterable[str]) -> str:
    """One space-separated scope string from several groups, in order, without duplicates."""
    return " ".join(dict.fromkeys(token for group in groups for token in split_scopes(group)))


def parse_resource_scope(scope: str) -> ResourceScope | None:
    """The resource scope in `scope`, or None for other scopes (`launch`, `openid`, malformed)."""
    match = _RESOURCE_SCOPE.match(scope)
    if match is None:
        return None
    perms, query = match["perms"], match["query"]
    if perms in V1_PERMISSIONS and query is None:
        interactions, version = V1_PERMISSIONS[perms], ScopeVersion.V1
    elif perms != "*" and set(perms) <= set(INTERACTIONS) and len(set(perms)) == len(perms):
        interactions, version = frozenset(perms), ScopeVersion.V2
    else:
        return None
    return ResourceScope(match["context"], match["type"], interactions, version, query)


def scopes_grant(scopes: Iterable[str], resource_type: str, interaction: str) -> bool:
    """Whether any scope grants `interaction` (c, r, u, d or s) on `resource_type`.

    A v2 scope narrowed by a query (`patient/Observation.rs?category=laboratory`) counts as
    granting; the server applies its filter. Patient, user and system contexts all count.
    """
    if len(interaction) != 1 or interaction not in INTERACTIONS:
        raise ValueError(f"interaction must be one of {', '.join(INTERACTIONS)}")
    parsed = (parse_resource_scope(scope) for scope in scopes)
    return any(s is not None and s.grants(resource_type, interaction) for s in parsed)


def to_v1(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """The v1 form of v2 resource scopes (`.rs` -> `.read`, `.cud` -> `.write`); others kept.

    v1 has no query syntax, so a query-narrowed v2 scope loses its query (it widens).
    """
    out: list[str] = []
    for scope in split_scopes(scopes):
        parsed = parse_resource_scope(scope)
        if parsed is None or parsed.version is ScopeVersion.V1:
            out.append(scope)
            continue
        base = f"{parsed.context}/{parsed.resource_type}"
        if parsed.interactions & V1_PERMISSIONS["read"]:
            out.append(f"{base}.read")
        if parsed.interactions & V1_PERMISSIONS["write"]:
            out.append(f"{base}.write")
    return tuple(dict.fromkeys(out))
