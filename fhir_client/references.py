"""References the client may follow: relative, or absolute on its own FHIR base, as (type, id)."""

from __future__ import annotations

import re

__all__ = ["local_reference"]

# FHIR R4 datatypes.html#id and resource type names.
_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def local_reference(reference: object, base_url: str) -> tuple[str, str] | None:
    """(type, id) of `Type/id`, `Type/id/_history/n` or `{base}/Type/id`; None for contained
    (`#x`), `urn:` and other servers' references, which the client must not fetch."""
    if not isinstance(reference, str) or not reference:
        return None
    base = base_url.rstrip("/") + "/"
    if reference.startswith(base):
        reference = reference[len(base) :]
    elif "://" in reference or reference.startswith(("#", "urn:", "/")):
        return None
    parts = reference.split("/")
    if len(parts) not in (2, 4) or (len(parts) == 4 and parts[2] != "_history"):
        return None
    if not _TYPE.fullmatch(parts[0]) or not _ID.fullmatch(parts[1]):
        return None
    return parts[0], parts[1]
