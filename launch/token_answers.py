"""The token endpoint's answer checked before Authlib reads it: no redirect, 429 means busy.

A token request carries the authorization code, the PKCE verifier, a refresh token or a client
secret; a redirect would re-send them to wherever the EHR's server points, so it is never
followed (RFC 9700, section 4.11). A 429 is the EHR asking the app to wait (RFC 6585, section 4)
with Retry-After (RFC 9110, section 10.2.3), not a refusal of the sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime

import requests

from launch.fetch import redirect_problem

__all__ = ["TokenEndpointBusy", "TokenEndpointRedirected", "answer_check", "retry_after_seconds"]


class TokenEndpointRedirected(Exception):
    """The token endpoint answered with a redirect; `reason` names the endpoint."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenEndpointBusy(Exception):
    """The token endpoint answered 429; `wait_s` is its Retry-After in seconds, if it gave one."""

    def __init__(self, wait_s: int | None) -> None:
        super().__init__("token endpoint busy")
        self.wait_s = wait_s


def answer_check(url: str, now: datetime) -> Callable[[requests.Response], requests.Response]:
    """An Authlib compliance hook for token responses from `url` (`now` dates a Retry-After)."""

    def check(response: requests.Response) -> requests.Response:
        status = response.status_code
        if response.is_redirect or 300 <= status < 400:
            raise TokenEndpointRedirected(redirect_problem(url, status))
        if status == 429:
            raise TokenEndpointBusy(retry_after_seconds(response.headers.get("Retry-After"), now))
        return response

    return check


def retry_after_seconds(value: str | None, now: datetime) -> int | None:
    """Retry-After as whole seconds from `now` (delay-seconds or an HTTP-date); None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0, round((moment - now).total_seconds()))
