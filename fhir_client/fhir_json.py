"""FHIR JSON as the client hands it over: a resource or a Bundle, a plain JSON object."""

from __future__ import annotations

from typing import Any

__all__ = ["FhirJson"]

# Resources are read leniently (real EHRs send elements a strict model rejects), so the client
# keeps them as parsed JSON; the app's mappings decide what each element means.
FhirJson = dict[str, Any]
