"""Simulated faults, switched on per client, per launch or for everyone, so tests can ask for them.

Each fault is one `FaultKind`; `count` limits it to the next K matching calls (then calls
succeed, so retries can be tested); without `count` it stays until cleared. The answer faults
(a malformed searchset, paging cut short against `total`, a next page that fails, a Patient
read answering another id)
strike only the `resource_type` they name and reshape the engine's real answer (answers.py).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    INVALID_CLIENT = "invalid_client"  # token endpoint: 401 invalid_client
    INVALID_SCOPE = "invalid_scope"  # authorize: redirect with error=invalid_scope
    BAD_REDIRECT_URI = "bad_redirect_uri"  # authorize: the redirect URI is treated as unregistered
    TOKEN_EXPIRED = "token_expired"  # noqa: S105  # FHIR: 401 invalid_token, as when expired
    REFRESH_REVOKED = "refresh_revoked"  # token endpoint: refresh answers invalid_grant
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After (FHIR, or the token endpoint with on=token)
    # token endpoint: 307 to the same endpoint, as a load balancer moving the endpoint does; a
    # client that follows it sends the code, verifier and secret a second time
    TOKEN_REDIRECT = "token_redirect"  # noqa: S105  # a fault name, not a secret
    # token endpoint: a refresh answers 200 with a new id_token that has no `aud` (as an EHR
    # observed in the field did), or one naming another user (`sub`)
    REFRESH_ID_TOKEN_NO_AUD = "refresh_id_token_no_aud"  # noqa: S105  # a fault name
    REFRESH_ID_TOKEN_OTHER_USER = "refresh_id_token_other_user"  # noqa: S105  # a fault name
    # token endpoint: access tokens issued live 60 seconds (SIXTY_SECOND_LIFETIME_S)
    SIXTY_SECOND_TOKENS = "sixty_second_tokens"
    SERVER_ERROR = "server_error"  # 500
    UNAVAILABLE = "unavailable"  # 503, Retry-After when retry_after is set
    SLOW = "slow"  # delay the answer by delay_s seconds
    # FHIR: the CapabilityStatement declares no conditionalCreate, and If-None-Exist is ignored
    # (a create always creates), as on EHRs without conditional create.
    NO_CONDITIONAL_CREATE = "no_conditional_create"
    # FHIR search of `resource_type`: the searchset is malformed as `variant` says
    MALFORMED_SEARCHSET = "malformed_searchset"
    # FHIR search of `resource_type`: fewer match entries than the `total` it states, no next page
    PAGING_CUT_SHORT = "paging_cut_short"
    # FHIR search of `resource_type`: the searchset's `next` link leads to a page that answers
    # `status` (500 or 404) at every try
    NEXT_LINK_FAILS = "next_link_fails"
    # FHIR read of a Patient: the answer is another patient's record (`answer_id`, or the same
    # record under another id)
    PATIENT_OTHER_ID = "patient_other_id"
    # Bulk Data: the export job fails; its status URL answers 500 with an OperationOutcome
    EXPORT_FAILED = "export_failed"
    # Bulk Data: an output file is sent cut short (half its bytes, then the connection closes)
    FILE_CUT_SHORT = "file_cut_short"
    # The chart's CDS Hooks calls: the JWT is signed with a key the chart does not publish, so
    # the service refuses it
    CDS_BAD_JWT = "cds_bad_jwt"


class Variant(StrEnum):
    """How a malformed searchset is malformed (each makes the search incomplete)."""

    ENTRY_OBJECT = "entry_object"  # `entry` is an object instead of a list
    NULL_RESOURCE = "null_resource"  # the first entry's resource is null
    MISSING_RESOURCE_TYPE = "missing_resource_type"  # the first match has no resourceType
    WRONG_RESOURCE_TYPE = "wrong_resource_type"  # the first match is another type (Basic)
    ENTRY_STRING = "entry_string"  # the first match entry is a string, not an object
    ENTRY_NUMBER = "entry_number"  # the first match entry is a number, not an object


class Surface(StrEnum):
    """Where a fault strikes: FHIR calls through the proxy, or the token endpoint."""

    FHIR = "fhir"
    TOKEN = "token"  # noqa: S105  # the token endpoint, not a secret
    EXPORT_STATUS = "export_status"  # a Bulk Data job's status URL
    EXPORT_FILE = "export_file"  # a Bulk Data output or error file
    CDS = "cds"  # the chart's calls to the CDS Hooks service


# Faults whose place is fixed by their nature; the others strike `on` the surface asked for.
FIXED_SURFACE = {
    FaultKind.INVALID_CLIENT: Surface.TOKEN,
    FaultKind.REFRESH_REVOKED: Surface.TOKEN,
    FaultKind.TOKEN_REDIRECT: Surface.TOKEN,
    FaultKind.REFRESH_ID_TOKEN_NO_AUD: Surface.TOKEN,
    FaultKind.REFRESH_ID_TOKEN_OTHER_USER: Surface.TOKEN,
    FaultKind.SIXTY_SECOND_TOKENS: Surface.TOKEN,
    FaultKind.NO_CONDITIONAL_CREATE: Surface.FHIR,
    FaultKind.MALFORMED_SEARCHSET: Surface.FHIR,
    FaultKind.PAGING_CUT_SHORT: Surface.FHIR,
    FaultKind.NEXT_LINK_FAILS: Surface.FHIR,
    FaultKind.PATIENT_OTHER_ID: Surface.FHIR,
    FaultKind.EXPORT_FAILED: Surface.EXPORT_STATUS,
    FaultKind.FILE_CUT_SHORT: Surface.EXPORT_FILE,
    FaultKind.CDS_BAD_JWT: Surface.CDS,
}
# token_expired strikes FHIR calls, or (`on` export_file) a Bulk Data file download: the token
# expires between downloads.
SEARCH_ANSWER_FAULTS = (
    FaultKind.MALFORMED_SEARCHSET,
    FaultKind.PAGING_CUT_SHORT,
    FaultKind.NEXT_LINK_FAILS,
)
# The statuses a failing next page may answer: a server error, or a page no longer found.
NEXT_PAGE_STATUSES = frozenset({404, 500})
# The search parameter of the failing next page's URL: the status it answers.
NEXT_PAGE_PARAMETER = "_sandbox_next_page_status"
AUTHORIZE_FAULTS = frozenset({FaultKind.INVALID_SCOPE, FaultKind.BAD_REDIRECT_URI})
HTTP_FAULTS = (
    FaultKind.SLOW,
    FaultKind.RATE_LIMIT,
    FaultKind.UNAVAILABLE,
    FaultKind.SERVER_ERROR,
)


SIXTY_SECOND_LIFETIME_S = 60
# The user a REFRESH_ID_TOKEN_OTHER_USER id_token names instead of the one who signed in.
OTHER_USER = "sbx-other-user"
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


class FaultError(ValueError):
    """A fault request is malformed; the message says which field."""


@dataclass(slots=True)
class Fault:
    fault_id: str
    kind: FaultKind
    client_id: str | None = None
    launch: str | None = None
    on: Surface = Surface.FHIR
    remaining: int | None = None
    retry_after_s: int | None = None
    delay_s: float = 0.0
    resource_type: str | None = None
    variant: Variant | None = None
    answer_id: str | None = None
    status: int | None = None  # next_link_fails: what the next page answers

    def matches(
        self, client_id: str | None, launch: str | None, resource_type: str | None = None
    ) -> bool:
        if self.client_id is not None and self.client_id != client_id:
            return False
        if self.resource_type is not None and self.resource_type != resource_type:
            return False
        return self.launch is None or self.launch == launch

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fault"] = data.pop("kind")
        data["id"] = data.pop("fault_id")
        return data


def fault_from_json(data: dict[str, Any], *, launch: str | None = None) -> Fault:
    """Validate one fault request (the control API's JSON shape)."""
    if not isinstance(data, dict):
        raise FaultError("a fault must be a JSON object")
    try:
        kind = FaultKind(str(data.get("fault")))
    except ValueError:
        raise FaultError(f"fault must be one of {[k.value for k in FaultKind]}") from None
    client_id = data.get("client_id")
    launch = data.get("launch", launch)
    for name, value in (("client_id", client_id), ("launch", launch)):
        if value is not None and not isinstance(value, str):
            raise FaultError(f"{name} must be a string")
    try:
        on = FIXED_SURFACE.get(kind) or Surface(data.get("on", Surface.FHIR))
    except ValueError:
        raise FaultError(f"on must be one of {[s.value for s in Surface]}") from None
    count = _optional_number(data, "count", int, minimum=1)
    retry_after = _optional_number(data, "retry_after", int, minimum=0)
    delay = _optional_number(data, "delay", float, minimum=0)
    if kind is FaultKind.SLOW and delay is None:
        raise FaultError("slow needs delay (seconds)")
    if kind is FaultKind.RATE_LIMIT and retry_after is None:
        retry_after = 1
    resource_type, variant, answer_id = _answer_fields(kind, data)
    status = _next_page_status(kind, data)
    return Fault(
        fault_id=secrets.token_hex(6),
        kind=kind,
        client_id=client_id,
        launch=launch,
        on=on,
        remaining=int(count) if count is not None else None,
        retry_after_s=int(retry_after) if retry_after is not None else None,
        delay_s=float(delay or 0.0),
        resource_type=resource_type,
        variant=variant,
        answer_id=answer_id,
        status=status,
    )


def _next_page_status(kind: FaultKind, data: dict[str, Any]) -> int | None:
    """The status the failing next page answers (500 unless `status` says 404)."""
    if kind is not FaultKind.NEXT_LINK_FAILS:
        return None
    status = data.get("status", 500)
    if isinstance(status, bool) or status not in NEXT_PAGE_STATUSES:
        raise FaultError(f"status must be one of {sorted(NEXT_PAGE_STATUSES)}")
    return int(status)


def _answer_fields(
    kind: FaultKind, data: dict[str, Any]
) -> tuple[str | None, Variant | None, str | None]:
    """`resource_type`, `variant` and `answer_id` of an answer fault (None for the others)."""
    resource_type, answer_id = data.get("resource_type"), data.get("answer_id")
    for name, value in (("resource_type", resource_type), ("answer_id", answer_id)):
        if value is not None and (not isinstance(value, str) or not _FHIR_ID.fullmatch(value)):
            raise FaultError(f"{name} must be a FHIR id (letters, digits, '-', '.')")
    if kind is FaultKind.PATIENT_OTHER_ID:
        return "Patient", None, answer_id
    if data.get("on") == Surface.EXPORT_FILE or kind is FaultKind.FILE_CUT_SHORT:
        return resource_type, None, None  # only the export file of that type, when named
    if kind not in SEARCH_ANSWER_FAULTS:
        return None, None, None
    if resource_type is None:
        raise FaultError(f"{kind.value} needs resource_type (the type searched)")
    if kind in (FaultKind.PAGING_CUT_SHORT, FaultKind.NEXT_LINK_FAILS):
        return resource_type, None, None
    try:
        return resource_type, Variant(str(data.get("variant"))), None
    except ValueError:
        raise FaultError(f"variant must be one of {[v.value for v in Variant]}") from None


def _optional_number(data: dict[str, Any], name: str, kind: type, minimum: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError(f"{name} must be a number")
    if kind is int and not float(value).is_integer():
        raise FaultError(f"{name} must be a whole number")
    if value < minimum:
        raise FaultError(f"{name} must be at least {minimum}")
    return float(value)


class FaultRegistry:
    """The faults in force; `take` consumes one matching call of a counted fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def all(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self, client_id: str | None = None, launch: str | None = None) -> int:
        """Remove faults (all of them, or those of one client or launch); return how many."""
        with self._lock:
            kept = [
                f
                for f in self._faults
                if (client_id is not None and f.client_id != client_id)
                or (launch is not None and f.launch != launch)
            ]
            removed = len(self._faults) - len(kept)
            self._faults = kept
        return removed

    def take(
        self,
        kinds: tuple[FaultKind, ...] | frozenset[FaultKind],
        *,
        on: Surface | None,
        client_id: str | None,
        launch: str | None,
        resource_type: str | None = None,
    ) -> Fault | None:
        """The first fault in force of one of `kinds` for this call, counting the call."""
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or (on is not None and fault.on != on):
                    continue
                if not fault.matches(client_id, launch, resource_type):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None
