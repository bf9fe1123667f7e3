"""When to try a FHIR call again, and how long to wait: exponential backoff, jitter, Retry-After.

The client runs its own loop rather than urllib3's `Retry` so that the clock and the sleep can
be injected in tests, every attempt is logged without its URL, one time budget covers the whole
call, and the error can tell the prescriber how many tries were made over how long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["DEFAULT_RETRY_STATUSES", "RetryPolicy", "retry_after_seconds"]

# 429 (RFC 6585) and the gateway family say "not now": the request was not processed.
# 500 is left out on purpose: an EHR's 500 is usually a fault in how it handles this very
# request (Epic and Cerner answer some malformed searches with 500), so sending it again only
# delays the prescriber and loads a struggling server, and for a write it is unknown whether it
# was applied. `FhirClient(retry_server_errors=True)` adds it.
DEFAULT_RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times, how long and on which statuses a call is tried again."""

    max_retries: int = 3
    backoff_s: float = 0.5
    budget_s: float = 30.0
    statuses: frozenset[int] = DEFAULT_RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_s < 0 or self.budget_s < 0:
            raise ValueError("max_retries, backoff and the retry budget must not be negative")

    def delay_s(self, retry: int, retry_after_s: float | None, rng: Callable[[], float]) -> float:
        """The wait before retry number `retry` (1-based): the server's Retry-After when it
        gave one, else backoff x 2^(retry-1) with "equal jitter" (between half and all of it),
        so that concurrent readers do not come back in step."""
        if retry_after_s is not None:
            return retry_after_s
        ceiling = self.backoff_s * 2.0 ** (retry - 1)
        return ceiling / 2 + ceiling / 2 * rng()

    def allows(self, retry: int, elapsed_s: float, delay_s: float) -> bool:
        """Whether retry number `retry` may run after waiting `delay_s`, within the budget."""
        return retry <= self.max_retries and elapsed_s + delay_s <= self.budget_s


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds to wait (RFC 9110 10.2.3: delay-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
