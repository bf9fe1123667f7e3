"""Vendor profiles: the FHIR quirks of Epic and Oracle Health that the proxy reproduces.

- `epic`: an Observation search must name a `category`, as Epic's R4 API requires, and every
  FHIR request must carry the client's id in `Epic-Client-ID`; the CapabilityStatement names
  Epic as its software and publisher.
- `oracle`: `_count` is capped at 200, and there is no Flag and no Task resource (Oracle Health's
  R4 API has neither), so both answer 404 and are absent from the CapabilityStatement, which
  names Oracle Health's Millennium Platform as its software.
- `generic`: the engine as it is, with the `_include` values the engine answers for a chart's
  MedicationRequest search listed in `searchInclude` (the engine's own statement lists none).
  The `epic` and `oracle` profiles list none, so a client's one-by-one follow-up reads are
  exercised too; which includes each vendor really offers varies by release.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sandbox.ehr.config import VENDORS

ORACLE_MAX_COUNT = 200
ORACLE_UNSUPPORTED = frozenset({"Flag", "Task"})
EPIC_CLIENT_HEADER = "Epic-Client-ID"
# CapabilityStatement.software and .publisher as each vendor publishes them (generic: the
# engine's own).
SOFTWARE = {
    "epic": ({"name": "Epic", "version": "February 2025"}, "Epic Systems Corporation"),
    "oracle": ({"name": "Oracle Health Millennium Platform", "version": "2025.1"}, "Oracle Health"),
}
GENERIC_INCLUDES = {
    "MedicationRequest": ["MedicationRequest:medication", "MedicationRequest:requester"],
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A vendor answer in place of the engine's: HTTP status, OperationOutcome code, text."""

    status: int
    code: str
    message: str


def refuse(
    vendor: str, resource_type: str, is_search: bool, params: dict[str, list[str]]
) -> Refusal | None:
    """Whether this vendor refuses the request before it reaches the engine."""
    if vendor == "oracle" and resource_type in ORACLE_UNSUPPORTED:
        return Refusal(404, "not-supported", f"Resource type {resource_type} is not supported")
    if vendor == "epic" and resource_type == "Observation" and is_search:
        if not any(name.split(":")[0] == "category" for name in params):
            return Refusal(400, "required", "Observation searches require the category parameter")
    return None


def client_header_refusal(vendor: str, sent: str | None, client_id: str) -> Refusal | None:
    """Epic's answer to a FHIR request without the client's id in Epic-Client-ID, else None."""
    if vendor != "epic" or sent == client_id:
        return None
    problem = "is missing" if not sent else "does not name this client"
    return Refusal(400, "required", f"The {EPIC_CLIENT_HEADER} header {problem}")


def adjust_params(vendor: str, params: dict[str, list[str]]) -> dict[str, list[str]]:
    """Search parameters as this vendor applies them (Oracle caps `_count` at 200)."""
    if vendor != "oracle" or "_count" not in params:
        return params
    adjusted = dict(params)
    capped = []
    for value in params["_count"]:
        capped.append(str(min(int(value), ORACLE_MAX_COUNT)) if value.isdigit() else value)
    adjusted["_count"] = capped
    return adjusted


def adjust_capabilities(vendor: str, capability: dict[str, Any]) -> dict[str, Any]:
    """The CapabilityStatement as this vendor publishes it."""
    if vendor in SOFTWARE:
        capability["software"], capability["publisher"] = SOFTWARE[vendor]
    for rest in capability.get("rest", []):
        resources = rest.get("resource", [])
        if vendor == "oracle":
            rest["resource"] = [r for r in resources if r.get("type") not in ORACLE_UNSUPPORTED]
        if vendor == "generic":
            for resource in resources:
                if resource.get("type") in GENERIC_INCLUDES:
                    resource["searchInclude"] = GENERIC_INCLUDES[resource["type"]]
    return capability


class VendorOverrides:
    """Vendor profiles switched at run time for a client, a launch, or everyone."""

    def __init__(self, default: str) -> None:
        self._lock = threading.Lock()
        self._default = default
        self._clients: dict[str, str] = {}
        self._launches: dict[str, str] = {}

    def set(self, vendor: str, *, client_id: str | None = None, launch: str | None = None) -> None:
        if vendor not in VENDORS:
            raise ValueError(f"vendor must be one of {VENDORS}")
        with self._lock:
            if launch is not None:
                self._launches[launch] = vendor
            elif client_id is not None:
                self._clients[client_id] = vendor
            else:
                self._default = vendor

    def reset(self, default: str) -> None:
        with self._lock:
            self._clients.clear()
            self._launches.clear()
            self._default = default

    def resolve(
        self,
        *,
        client_id: str | None,
        launch: str | None,
        client_vendor: str | None = None,
        launch_vendor: str | None = None,
    ) -> str:
        """Launch override, then the launch's own, then client override, client's, default."""
        with self._lock:
            for candidate in (
                self._launches.get(launch) if launch else None,
                launch_vendor,
                self._clients.get(client_id) if client_id else None,
                client_vendor,
            ):
                if candidate:
                    return candidate
            return self._default
