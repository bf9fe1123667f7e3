"""The EHRs' id_token signing keys (their `jwks_uri`), read once and kept a few minutes.

A sign-in and every renewal check an id_token; reading the EHR's key set each time costs a round
trip and leans on the EHR. A key set is kept `KEEP_S` seconds by URL; a token signed with a key
the kept set lacks (the EHR rotated its keys) reads the set again at once, but at most once per
`REREAD_S` seconds per URL, so a stream of bad tokens cannot make the app hammer the EHR. A
failed read is never kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

import requests
from cachetools import TTLCache
from joserfc.jwk import KeySet, KeySetSerialization

from launch.fetch import DEFAULT_TIMEOUT, get_json

__all__ = ["KEEP_S", "REREAD_S", "EhrKeySets", "ehr_key_sets"]

KEEP_S = 300.0
REREAD_S = 30.0
_MOST_EHRS = 64


class EhrKeySets:
    """Key sets by `jwks_uri`: `get` reads or reuses one, `reread` reads it again (rate-limited)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kept: TTLCache[str, KeySet] = TTLCache(maxsize=_MOST_EHRS, ttl=KEEP_S, timer=clock)
        self._read_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(
        self,
        http: requests.Session,
        url: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> KeySet:
        """The key set at `url`, kept from an earlier read when still fresh."""
        with self._lock:
            kept = self._kept.get(url)
        if kept is not None:
            return kept
        return self._read(http, url, timeout)

    def reread(
        self,
        http: requests.Session,
        url: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> KeySet | None:
        """The key set read again now, or None when it was read under `REREAD_S` seconds ago."""
        with self._lock:
            last = self._read_at.get(url)
        if last is not None and self._clock() - last < REREAD_S:
            return None
        return self._read(http, url, timeout)

    def clear(self) -> None:
        """Forget every key set (a test's fresh start; an operator's after an EHR incident)."""
        with self._lock:
            self._kept.clear()
            self._read_at.clear()

    def _read(self, http: requests.Session, url: str, timeout: Any) -> KeySet:
        # FetchFailed and malformed sets propagate to the caller, and nothing is kept.
        key_set = KeySet.import_key_set(
            cast(KeySetSerialization, get_json(http, url, timeout=timeout))
        )
        with self._lock:
            self._kept[url] = key_set
            self._read_at[url] = self._clock()
        return key_set


# One per process: every sign-in and renewal of every issuer shares it.
ehr_key_sets = EhrKeySets()
