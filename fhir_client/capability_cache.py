"""CapabilityStatements shared across requests: an EHR's /metadata is large and rarely changes.

Epic's runs to megabytes; reading it on every page would put a slow round trip on the page's
critical path. Entries live for `ttl_s` seconds, keyed by the FHIR base URL and client id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_TTL_S = 600.0


class CapabilityCache:
    """A small thread-safe TTL map from (base URL, client id) to a CapabilityStatement."""

    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        """The statement if it was stored less than `ttl_s` ago."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] >= self.ttl_s:
            return None
        return entry[1]

    def put(self, key: tuple[str, str], statement: dict[str, Any]) -> None:
        """Keep a statement just read."""
        with self._lock:
            self._entries[key] = (self._clock(), statement)
