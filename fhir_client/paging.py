"""Search paging: the next link of a searchset Bundle, followed only to the FHIR server's origin."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from fhir_client.fhir_json import FhirJson

__all__ = ["next_link", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def next_link(bundle_json: FhirJson, base_url: str) -> str | None:
    """The absolute URL of `Bundle.link[relation=next]`, or None on the last page."""
    for link in bundle_json.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url.strip():
                # A relative link is relative to the base (FHIR R4 http.html#general).
                return urljoin(base_url.rstrip("/") + "/", url.strip())
    return None


def same_origin(url: str, base_url: str) -> bool:
    """Whether `url` has the scheme, host and port of the base: the bearer token goes nowhere
    else (a next link to another origin would leak it and make the app fetch for the server)."""
    return _origin(url) == _origin(base_url) and _origin(url) is not None


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    if parts.username or parts.password:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port
