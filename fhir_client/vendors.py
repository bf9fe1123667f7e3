"""Vendor profiles: the search rules and gaps of Epic and Oracle Health that the client applies.

- `epic`: an Observation search must carry `category` (Epic's R4 Observation.Search requires
  it), so the client adds `category=laboratory` when the caller gave none; every request
  carries the app's client id in `Epic-Client-ID` (Epic on FHIR, "Epic-Client-ID header").
- `oracle`: `_count` is capped at 200 and there is no Flag and no Task resource in Oracle
  Health's Millennium R4 API, so the client refuses those calls before sending them.
- `generic`: the server as it is.

Which profile applies is read from the server's CapabilityStatement (`software.name`, then
`publisher`) by `detect_vendor`, unless the caller names one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PROFILES", "VendorProfile", "detect_vendor", "vendor_profile"]

# Words in CapabilityStatement.software.name or .publisher -> profile name, first match wins.
# Oracle Health's Millennium statements name "Oracle Health" or, before 2023, "Cerner".
_SIGNATURES = (
    ("epic", "epic"),
    ("oracle", "oracle"),
    ("cerner", "oracle"),
    ("millennium", "oracle"),
)


@dataclass(frozen=True, slots=True)
class VendorProfile:
    """What one vendor needs of a request: required search parameters, a page cap, gaps."""

    name: str
    display: str
    # resource type -> {parameter: value} added to its searches when the caller gave none
    required_search_params: dict[str, dict[str, str]] = field(default_factory=dict)
    max_count: int | None = None
    absent_types: frozenset[str] = frozenset()
    # header carrying the app's client id on every request (None: no such header)
    client_id_header: str | None = None

    def search_params(
        self, resource_type: str, params: list[tuple[str, str]], page_size: int
    ) -> list[tuple[str, str]]:
        """The parameters as this vendor needs them: required ones added, `_count` capped."""
        names = {name.split(":")[0] for name, _ in params}
        adjusted = list(params)
        for name, value in self.required_search_params.get(resource_type, {}).items():
            if name not in names:
                adjusted.append((name, value))
        if "_count" not in names:
            adjusted.append(("_count", str(page_size)))
        return [
            (name, self._count(value) if name == "_count" else value) for name, value in adjusted
        ]

    def _count(self, value: str) -> str:
        if self.max_count is None or not value.isdigit():
            return value
        return str(min(int(value), self.max_count))


PROFILES: dict[str, VendorProfile] = {
    "generic": VendorProfile("generic", "The EHR"),
    "epic": VendorProfile(
        "epic",
        "Epic",
        required_search_params={"Observation": {"category": "laboratory"}},
        client_id_header="Epic-Client-ID",
    ),
    "oracle": VendorProfile(
        "oracle", "Oracle Health", max_count=200, absent_types=frozenset({"Flag", "Task"})
    ),
}


def vendor_profile(name: str | VendorProfile) -> VendorProfile:
    """The profile of that name (`generic`, `epic`, `oracle`); ValueError names the choices."""
    if isinstance(name, VendorProfile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"vendor profile must be one of {sorted(PROFILES)}, not {name!r}"
        ) from None


def detect_vendor(capability_json: Any) -> VendorProfile:
    """The profile a CapabilityStatement names in `software.name` or `publisher`; `generic` when
    it names no vendor with a profile (or is not a CapabilityStatement object)."""
    if not isinstance(capability_json, dict):
        return PROFILES["generic"]
    software = capability_json.get("software")
    names = [software.get("name") if isinstance(software, dict) else None]
    names.append(capability_json.get("publisher"))
    for name in names:
        if not isinstance(name, str):
            continue
        words = name.lower()
        for signature, profile in _SIGNATURES:
            if signature in words:
                return PROFILES[profile]
    return PROFILES["generic"]
