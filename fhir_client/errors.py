"""The FHIR client's errors: each says whether a retry may help and what to tell the prescriber.

```
FhirError                  any failed FHIR call (status, OperationOutcome, retryable, user_message)
├── FhirAuthError          401 (token missing, invalid or `expired`) and 403 (scope not granted)
├── FhirUnavailable        429, 5xx, timeouts and connection errors, after the client's retries
├── FhirNotFound           404 and 410, and a resource type the vendor profile says is absent
├── FhirBadRequest         400 and 422: the server refused the request as written
└── FhirIncompleteRead     a search answered, but not whole (completeness.py): never read as empty
```

`str(error)` is the technical line for logs: method, resource type, status and OperationOutcome
issue codes, never a URL (it names the patient), a token or the server's free text (which may
quote patient data). `user_message` is the sentence shown to the prescriber, and may quote the
OperationOutcome's diagnostics; Jinja's autoescaping makes it safe in HTML. `retryable` says
whether trying again later may succeed (cumulus-etl's distinction between temporary and fatal);
`retry_after_s` is the wait the server asked for with its last answer's Retry-After, if any.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_client.fhir_json import FhirJson

_ISSUE_CODE = re.compile(r"[a-z][a-z-]{0,39}")

__all__ = [
    "FhirAuthError",
    "FhirBadRequest",
    "FhirError",
    "FhirIncompleteRead",
    "FhirNotFound",
    "FhirUnavailable",
    "outcome_texts",
]


class FhirError(Exception):
    """A FHIR call failed; `user_message` says so in words a prescriber understands."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        user_message: str,
        status: int | None = None,
        operation_outcome: FhirJson | None = None,
        retryable: bool | None = None,
        resource_type: str | None = None,
        attempts: int = 1,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.user_message = user_message
        self.status = status
        self.operation_outcome = operation_outcome
        self.retryable = self.default_retryable if retryable is None else retryable
        self.resource_type = resource_type
        self.attempts = attempts
        self.retry_after_s = retry_after_s


class FhirAuthError(FhirError):
    """401 or 403: the token is missing, invalid or expired, or lacks the scope for the call."""

    def __init__(self, message: str, *, expired: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.expired = expired


class FhirUnavailable(FhirError):
    """The EHR is busy, down or too slow (429, 5xx, timeout, no connection), retries spent."""

    default_retryable = True


class FhirNotFound(FhirError):
    """404 or 410: no such resource, or no such resource type on this EHR."""


class FhirBadRequest(FhirError):
    """400 or 422: the EHR refused the request as written (a missing or unknown parameter)."""


class FhirIncompleteRead(FhirError):
    """A search answered with entries the client cannot read, or stopped paging early.

    `problems` names each reason (safe to log: shapes and counts, never the server's text)."""

    def __init__(self, message: str, *, problems: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.problems = problems


def outcome_texts(operation_outcome: FhirJson | None) -> list[str]:
    """The human-readable texts of an OperationOutcome's issues (diagnostics, else details)."""
    if not isinstance(operation_outcome, dict):
        return []
    texts: list[str] = []
    for issue in operation_outcome.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        details_text = details.get("text") if isinstance(details, dict) else None
        found = issue.get("diagnostics") or details_text
        if isinstance(found, str) and found.strip() and found.strip() not in texts:
            texts.append(found.strip())
    return texts


def outcome_codes(operation_outcome: FhirJson | None) -> list[str]:
    """The issue codes of an OperationOutcome (`forbidden`, `expired`, ...): safe to log."""
    if not isinstance(operation_outcome, dict):
        return []
    codes = [
        issue.get("code")
        for issue in operation_outcome.get("issue") or []
        if isinstance(issue, dict)
    ]
    # Issue codes come from a fixed value set; anything else is the server's text, not a code.
    return [code for code in codes if isinstance(code, str) and _ISSUE_CODE.fullmatch(code)]
