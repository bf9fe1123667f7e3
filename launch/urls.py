"""URL rules: normalised issuers and origins, and which endpoints count as secure."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["is_secure_url", "normalise_iss", "normalise_origin"]

# Plain HTTP is accepted only on the local machine (development); SMART requires TLS elsewhere.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_secure_url(url: str) -> bool:
    """Whether `url` is absolute and HTTPS (or HTTP on a loopback host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)


def normalise_iss(value: str) -> str:
    """The issuer (FHIR base URL) in canonical form: lower-case scheme and host, no trailing slash.

    Raises ValueError when it is not a secure absolute URL, or carries credentials, a query or a
    fragment.
    """
    text = value.strip()
    if not is_secure_url(text):
        raise ValueError("issuer must be an absolute https URL")
    parts = urlsplit(text)
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError("issuer must not carry credentials, a query or a fragment")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def normalise_origin(value: str) -> str:
    """An origin for CSP `frame-ancestors` (`https://host[:port]`, `*.` allowed in the host).

    Raises ValueError for anything with a path, query, fragment or credentials.
    """
    text = value.strip().rstrip("/")
    parts = urlsplit(text.replace("://*.", "://wildcard.", 1))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port])")
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port])")
    return text.lower()
