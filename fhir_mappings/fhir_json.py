"""Lenient readers for raw FHIR JSON: typed access to values that never raises on malformed input.

Real EHRs send elements a strict model rejects (strings for numbers, stray whitespace, objects
where lists belong), so inbound resources stay plain dicts and every read goes through these
helpers, which answer None or an empty value for anything that does not fit.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

FhirJson = dict[str, Any]

# A FHIR decimal written as a JSON string ("rank": "1" in Oracle's examples): digits only, no
# exponent, so no string can build a number too large to compute with.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def obj(value: object) -> FhirJson:
    """The value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def objs(value: object) -> list[FhirJson]:
    """The JSON objects in a list (a lone object counts as a list of one); others are skipped."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def text(value: object) -> str | None:
    """A non-blank string, stripped, else None."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def code_text(value: object) -> str | None:
    """A FHIR code (status and the like) stripped and lower-cased: "entered-in-error " counts."""
    found = text(value)
    return found.lower() if found else None


def number(value: object) -> Decimal | None:
    """A finite JSON number (or a plain decimal written as a string) as a Decimal, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: the value as written.
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def reference(value: object) -> str | None:
    """The `reference` string of a FHIR Reference, else None."""
    return text(obj(value).get("reference"))


def codings(concept: object) -> list[tuple[str | None, str]]:
    """(system, code) of each coding of a CodeableConcept; a blank system reads as None."""
    pairs = []
    for coding in objs(obj(concept).get("coding")):
        code = text(coding.get("code"))
        if code is not None:
            pairs.append((text(coding.get("system")), code))
    return pairs


def concept_words(concept: object) -> list[str]:
    """The text and every coding display of a CodeableConcept, as written."""
    concept_json = obj(concept)
    words = [text(concept_json.get("text"))]
    words.extend(text(coding.get("display")) for coding in objs(concept_json.get("coding")))
    return [word for word in words if word]


def shown(value: object, limit: int = 40) -> str:
    """A short printable form of a written value, for messages (never more than `limit` chars)."""
    written = value if isinstance(value, str) else repr(value)
    return written if len(written) <= limit else written[: limit - 3] + "..."
