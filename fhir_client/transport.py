"""One FHIR HTTP call with its retries, token refresh and logging (method, type, status only)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from fhir_client.errors import FhirError, FhirUnavailable
from fhir_client.json_body import decode_body
from fhir_client.messages import Call, error_from_status, error_from_tls, error_from_transport
from fhir_client.retry import RetryPolicy, retry_after_seconds

logger = logging.getLogger("fhir_client")

FHIR_JSON = "application/fhir+json"
# Transport failures after which the request may not have reached the server's logic.
_RETRYABLE_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to the FHIR server; `retry_safe` when sending it twice does no harm."""

    method: str
    url: str
    resource_type: str
    retry_safe: bool
    params: Sequence[tuple[str, str]] | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Transport:
    """Sends Requests: bearer token per attempt, retries within the policy, one refresh on 401."""

    session: requests.Session
    token_provider: Callable[[], str]
    policy: RetryPolicy
    timeout_s: float
    verify: bool | str | None = None
    on_unauthorized: Callable[[], bool] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random  # jitter only, not security
    # sent on every request (a vendor's client id header); a request's own headers win
    headers: dict[str, str] = field(default_factory=dict)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, request: Request) -> requests.Response:
        """The final 2xx response; FhirError for anything else."""
        started, attempt, refreshed = self.clock(), 0, False
        while True:
            attempt += 1
            token = self.token_provider()
            response = self._attempt(request, token, attempt, started)
            if response is None:  # a transport failure worth another try
                continue
            if response.status_code == 401 and not refreshed and self._refresh(token):
                refreshed = True
                continue
            if 200 <= response.status_code < 300:
                return response
            if request.retry_safe and response.status_code in self.policy.statuses:
                if self._wait(request, attempt, started, response):
                    continue
            raise self._error(request, response, attempt, started, token)

    def _attempt(
        self, request: Request, token: str, attempt: int, started: float
    ) -> requests.Response | None:
        sent_at = self.clock()
        try:
            response = self.session.request(
                request.method,
                request.url,
                params=request.params,
                data=request.body,
                headers=self._headers(request, token),
                timeout=self.timeout_s,
                allow_redirects=False,  # a redirect would carry the request elsewhere
                verify=self.verify,  # None: the session's own setting
            )
        except requests.exceptions.SSLError:
            # Not retried: a certificate the app does not trust stays untrusted.
            self._log(request, "SSLError", attempt, sent_at, logging.WARNING)
            call = Call(request.method, request.resource_type, attempt, self.clock() - started)
            raise error_from_tls(call, request.url) from None
        except requests.RequestException as error:
            self._log(request, type(error).__name__, attempt, sent_at, logging.WARNING)
            timed_out = isinstance(error, requests.Timeout)
            retryable = isinstance(error, _RETRYABLE_EXCEPTIONS) and request.retry_safe
            if retryable and self._sleep_before(attempt, started, None):
                return None
            call = Call(request.method, request.resource_type, attempt, self.clock() - started)
            # `from None`: the requests exception's text holds the URL, which names the patient.
            raise error_from_transport(call, timed_out, self.timeout_s) from None
        level = logging.DEBUG if response.status_code < 300 else logging.WARNING
        self._log(request, str(response.status_code), attempt, sent_at, level)
        return response

    def _headers(self, request: Request, token: str) -> dict[str, str]:
        headers = {"Accept": FHIR_JSON, **self.headers, **request.headers}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _refresh(self, token_used: str) -> bool:
        """Let the app refresh the token once; concurrent callers share one refresh."""
        if self.on_unauthorized is None:
            return False
        with self._refresh_lock:
            if self.token_provider() != token_used:
                return True  # another thread refreshed while this call was in flight
            return bool(self.on_unauthorized())

    def _wait(
        self, request: Request, attempt: int, started: float, response: requests.Response
    ) -> bool:
        asked = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
        return self._sleep_before(attempt, started, asked)

    def _sleep_before(self, attempt: int, started: float, retry_after_s: float | None) -> bool:
        """Sleep before the next try and say True, or say False when the policy forbids it."""
        delay = self.policy.delay_s(attempt, retry_after_s, self.rng)
        if not self.policy.allows(attempt, self.clock() - started, delay):
            return False
        self.sleep(delay)
        return True

    def _error(
        self,
        request: Request,
        response: requests.Response,
        attempt: int,
        started: float,
        token: str,
    ) -> FhirError:
        call = Call(request.method, request.resource_type, attempt, self.clock() - started)
        error = error_from_status(
            call,
            response.status_code,
            _outcome(response),
            response.headers.get("WWW-Authenticate", ""),
            self.policy.statuses,
        )
        asked = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
        if isinstance(error, FhirUnavailable):
            error.retry_after_s = asked
        if isinstance(error, FhirUnavailable) and asked and asked > self.policy.budget_s:
            error.user_message += f" It asked the app to wait {asked:.0f} seconds: try again later."
        if token and token in error.user_message:  # a server that echoes the token back
            error.user_message = error.user_message.replace(token, "[access token]")
        return error

    def _log(
        self, request: Request, outcome: str, attempt: int, sent_at: float, level: int
    ) -> None:
        elapsed_ms = round((self.clock() - sent_at) * 1000)
        logger.log(
            level,
            "fhir %s %s status=%s attempt=%d elapsed_ms=%d",
            request.method,
            request.resource_type,
            outcome,
            attempt,
            elapsed_ms,
        )


def _outcome(response: requests.Response) -> dict[str, Any] | None:
    """The OperationOutcome in an error response's body, if it has one."""
    try:
        body = decode_body(response.content)
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return body
    return None
