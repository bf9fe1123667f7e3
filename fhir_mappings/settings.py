"""The organisation's settings that change how FHIR resources are read."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class LocalCode:
    """A code in a local code system; `system` None matches a coding with no system."""

    system: str | None
    code: str


@dataclass(frozen=True, slots=True)
class MappingSettings:
    """How to read this organisation's FHIR data.

    `timezone` dates each collection instant (None: the date part as written).
    `local_anc_codes` are extra Observation codes that are an ANC in cells/uL units;
    `ben_codes` are Condition codes that document benign ethnic neutropenia.
    """

    timezone: ZoneInfo | None = None
    local_anc_codes: frozenset[LocalCode] = frozenset()
    ben_codes: frozenset[LocalCode] = frozenset()
