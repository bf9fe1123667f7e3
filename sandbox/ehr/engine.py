"""HTTP access to the internal FHIR engine (the Node server on loopback) for proxy and chart."""

from __future__ import annotations

import threading
from typing import Any

import requests

FhirJson = dict[str, Any]
ENGINE_TIMEOUT_S = 30.0


class EngineError(RuntimeError):
    """The FHIR engine could not be reached or answered badly."""


# The engine writes links, fullUrls and Location headers under the base this header names.
PUBLIC_BASE_HEADER = "X-Forwarded-Base"


class Engine:
    """A small client of the engine's FHIR API; one HTTP session per thread."""

    def __init__(self, base: str, public_base: str, timeout_s: float = ENGINE_TIMEOUT_S) -> None:
        self.base = base.rstrip("/")
        self.public_base = public_base
        self.timeout_s = timeout_s
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send one request to `{base}/{path}`; raise EngineError if the engine is unreachable."""
        url = f"{self.base}/{path.lstrip('/')}" if path else self.base
        try:
            return self._session().request(
                method,
                url,
                params=params,
                data=body,
                headers={**(headers or {}), PUBLIC_BASE_HEADER: self.public_base},
                timeout=self.timeout_s,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise EngineError(f"FHIR engine unreachable: {type(error).__name__}") from error

    def read(self, resource_type: str, resource_id: str) -> FhirJson | None:
        response = self.request("GET", f"{resource_type}/{resource_id}")
        if response.status_code != 200:
            return None
        data: FhirJson = response.json()
        return data

    def search(self, resource_type: str, params: list[tuple[str, str]]) -> list[FhirJson]:
        """The resources on the first page of a search (enough for the chart's look-ups)."""
        response = self.request("GET", resource_type, params=params)
        if response.status_code != 200:
            raise EngineError(f"search {resource_type} answered {response.status_code}")
        bundle = response.json()
        return [
            entry["resource"]
            for entry in bundle.get("entry", [])
            if isinstance(entry.get("resource"), dict)
            and entry["resource"].get("resourceType") == resource_type
        ]
