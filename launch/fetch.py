"""JSON GETs on the caller's requests.Session, always with a timeout, failures made explicit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = ["DEFAULT_TIMEOUT", "FetchFailed", "get_json", "redirect_problem", "tls_problem"]

# (connect, read) seconds for every call the SMART client makes; an EHR that hangs must not.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 20.0)


class FetchFailed(Exception):
    """A GET that did not produce a JSON object; `status` is None for network failures."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    @property
    def retryable(self) -> bool:
        """Network failures, 429 and 5xx may pass; other answers will not change."""
        return self.status is None or self.status == 429 or self.status >= 500

    @property
    def redirected(self) -> bool:
        """The server answered with a redirect, which the app does not follow."""
        return self.status is not None and 300 <= self.status < 400


def get_json(
    http: requests.Session,
    url: str,
    *,
    accept: str = "application/json",
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """The JSON object at `url`; FetchFailed on network errors, non-2xx or a non-object body."""
    try:
        # Never followed: a redirect could carry the request (and what it proves) elsewhere.
        response = http.get(url, headers={"Accept": accept}, timeout=timeout, allow_redirects=False)
    except requests.exceptions.SSLError as error:
        raise FetchFailed(tls_problem(url)) from error
    except requests.RequestException as error:
        raise FetchFailed(type(error).__name__) from error
    if response.is_redirect or 300 <= response.status_code < 400:
        raise FetchFailed(redirect_problem(url, response.status_code), status=response.status_code)
    if not response.ok:
        raise FetchFailed(f"HTTP {response.status_code}", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        raise FetchFailed("not JSON", status=response.status_code) from None
    if not isinstance(body, dict):
        raise FetchFailed("not a JSON object", status=response.status_code)
    return body


def redirect_problem(url: str, status: int) -> str:
    """What a redirect from one of the EHR's SMART endpoints means, naming the endpoint."""
    return (
        f"{url} answered with a redirect (HTTP {status}), which the app does not follow; the"
        " EHR's administrators must publish the endpoint's final https URL"
    )


def tls_problem(url: str | None) -> str:
    """What a certificate verification failure means and what to do, naming the host."""
    host = (urlsplit(url).hostname if url else None) or "the EHR's server"
    return (
        f"the app does not trust the TLS certificate of {host}; if this EHR uses its own"
        " certificate authority, set tls_ca_file for it in the issuers file"
    )
