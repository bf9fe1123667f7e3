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

# A FHIR decimal written as a JSON string ("rank": "1" in Oracle's examples), read as that number
# (contract ruling "Spelling"); like a JSON number, one written with more than 100 characters is
# unusable (ruling "Exact numbers").
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_MAX_CHARACTERS = 100
# An integer written with more than 100 characters: 101 digits, or a minus and 100 digits.
_TOO_HIGH = 10**100
_TOO_LOW = -(10**99)


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
    """A finite number (JSON number, or a decimal written as a string) as a Decimal, else None.

    Exact: a Decimal (as `read_json` gives) is kept as it is; a float (from another reader) is
    read as its shortest repr, the value as written. A number written with more than 100
    characters is None (`read_json` reads it as NaN; an int is judged by its digits).
    """
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) if _TOO_LOW < value < _TOO_HIGH else None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        written = value.strip()
        if len(written) <= _MAX_CHARACTERS and _DECIMAL_TEXT.fullmatch(written):
            return Decimal(written)
    return None


def identifier(value: object) -> str | None:
    """A resource id: a non-blank string, or a number written as one (ruling "Identifiers")."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if _TOO_LOW < value < _TOO_HIGH else None
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
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
