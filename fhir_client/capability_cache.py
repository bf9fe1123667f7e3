"""CapabilityStatements shared across requests: an EHR's /metadata is large and rarely changes.

Epic's runs to megabytes; reading it on every page would put a slow round trip on the page's
critical path. Entries live for `ttl_s` seconds in a cachetools TTLCache, keyed by the FHIR
base URL and client id; only statements actually read are kept (a failed read is not).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache

DEFAULT_TTL_S = 600.0
MAX_ENTRIES = 256  # EHRs times client ids: far more than one installation configures


class CapabilityCache:
    """A thread-safe TTL map from (base URL, client id) to a CapabilityStatement."""

    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._entries: TTLCache[tuple[str, str], dict[str, Any]] = TTLCache(
            maxsize=MAX_ENTRIES, ttl=ttl_s, timer=clock
        )
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        """The statement if it was stored less than `ttl_s` ago."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, str], statement: dict[str, Any]) -> None:
        """Keep a statement just read."""
        with self._lock:
            self._entries[key] = statement
