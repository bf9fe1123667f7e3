"""The organisation settings file (TOML): time zone, local ANC and BEN codes, program, write-back.

[organisation]
name = "Example Health"
timezone = "America/Chicago"

[[codes.anc]]            # local Observation codes that are an ANC in cells/uL
system = "https://ehr.example.org/codes/lab"
code = "ANC-AUTO"

[[codes.ben]]            # local Condition codes that document BEN
system = "http://snomed.info/sct"
code = "..."

[writeback]              # what the app writes back to the EHR (both keys optional)
task_intent = "proposal" # or "order" when the app's Task is the order itself
identifier_system = "urn:smartapp:clozapine-monitoring:writeback"
"""

from __future__ import annotations

import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clozapine import OrganisationProgram
from clozapine.vocabulary import FindingCode
from fhir_mappings.settings import LocalCode, MappingSettings


class ConfigError(ValueError):
    """The settings file cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class OrgConfig:
    """What the organisation configured (an empty config means the contract's defaults)."""

    name: str | None = None
    timezone: str | None = None
    local_anc_codes: frozenset[LocalCode] = field(default_factory=frozenset)
    ben_codes: frozenset[LocalCode] = field(default_factory=frozenset)
    program: OrganisationProgram | None = None
    task_intent: str = "proposal"
    writeback_identifier_system: str | None = None

    def mapping_settings(self, timezone: str | None = None) -> MappingSettings:
        """Settings for the FHIR mappings; `timezone` (from the command line) wins over the file."""
        zone = timezone if timezone is not None else self.timezone
        return MappingSettings(
            timezone=zone_named(zone) if zone else None,
            local_anc_codes=self.local_anc_codes,
            ben_codes=self.ben_codes,
        )


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """An IANA time zone by name; ConfigError when there is no such zone."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r} (use an IANA name such as America/Chicago)"
        ) from None


def load_app_org_config(path: Path | None) -> OrgConfig:
    """The app's settings file, which must name the organisation's time zone.

    EHRs often write collection times in UTC; without the zone an evening draw is dated a day
    late, so the app refuses to start rather than guess (the command line keeps its default).
    """
    if path is None:
        raise ConfigError(
            "SMARTAPP_ORG_CONFIG is not set: the app needs the organisation settings file,"
            " with organisation.timezone (an IANA name such as America/Chicago)"
        )
    config = load_org_config(path)
    if config.timezone is None:
        raise ConfigError(
            f"organisation.timezone is not set in {path}: the app needs the organisation's"
            " time zone (an IANA name such as America/Chicago) to date collection times"
        )
    return config


def load_org_config(path: Path) -> OrgConfig:
    """Read and check the settings file."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return org_config_from_document(document)


def org_config_from_document(document: dict[str, Any]) -> OrgConfig:
    """Check a parsed settings document; unknown tables are allowed for later sections."""
    organisation = _table(document, "organisation")
    codes = _table(document, "codes")
    writeback = _writeback(_table(document, "writeback"))
    name = _optional_str(organisation, "organisation.name")
    timezone = _optional_str(organisation, "organisation.timezone")
    if timezone is not None:
        zone_named(timezone)
    return OrgConfig(
        name=name,
        timezone=timezone,
        local_anc_codes=_codes(codes, "anc"),
        ben_codes=_codes(codes, "ben"),
        program=_program(document["program"]) if "program" in document else None,
        task_intent=writeback["task_intent"] or "proposal",
        writeback_identifier_system=writeback["identifier_system"],
    )


_TASK_INTENTS = ("proposal", "order")


def _writeback(table: dict[str, Any]) -> dict[str, str | None]:
    unknown = sorted(set(table) - {"task_intent", "identifier_system"})
    if unknown:
        raise ConfigError(f"writeback.{unknown[0]} is not a write-back setting")
    intent = _optional_str(table, "writeback.task_intent")
    if intent is not None and intent not in _TASK_INTENTS:
        raise ConfigError("writeback.task_intent must be 'proposal' or 'order'")
    system = _optional_str(table, "writeback.identifier_system")
    if system is not None and (":" not in system or any(c in system for c in " |,")):
        raise ConfigError("writeback.identifier_system must be a URI without spaces, | or ,")
    return {"task_intent": intent, "identifier_system": system}


_PROGRAM_KEYS = {
    "id",
    "name",
    "document",
    "enrollment_required",
    "enrollment_renewal_days",
    "certification_renewal_days",
    "anc_dispense_window_days",
    "writeback_findings",
}


def _program(table: Any) -> OrganisationProgram:
    if not isinstance(table, dict):
        raise ConfigError("[program] must be a table")
    unknown = sorted(set(table) - _PROGRAM_KEYS)
    if unknown:
        raise ConfigError(f"program.{unknown[0]} is not a program setting")
    for key in ("id", "name", "document"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"program.{key} must be a non-empty string")
    required = table.get("enrollment_required", True)
    if not isinstance(required, bool):
        raise ConfigError("program.enrollment_required must be true or false")
    findings = table.get("writeback_findings", [])
    if not isinstance(findings, list) or not all(isinstance(f, str) for f in findings):
        raise ConfigError("program.writeback_findings must be an array of finding codes")
    known = {code.value for code in FindingCode}
    unknown_codes = [f for f in findings if f not in known]
    if unknown_codes:
        raise ConfigError(
            f"program.writeback_findings names {unknown_codes[0]!r}, which is not a finding code"
        )
    return OrganisationProgram(
        program_id=table["id"],
        name=table["name"],
        document=table["document"],
        enrollment_required=required,
        enrollment_renewal_days=_days(table, "enrollment_renewal_days"),
        certification_renewal_days=_days(table, "certification_renewal_days"),
        anc_dispense_window_days=_days(table, "anc_dispense_window_days"),
        writeback_findings=tuple(FindingCode(f) for f in findings),
    )


def _days(table: dict[str, Any], key: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"program.{key} must be a whole number of days, at least 1")
    return value


def _table(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _optional_str(table: dict[str, Any], dotted: str) -> str | None:
    value = table.get(dotted.rsplit(".", 1)[-1])
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(f"{dotted} must be a non-empty string")
    return value


def _codes(codes: dict[str, Any], key: str) -> frozenset[LocalCode]:
    entries = codes.get(key, [])
    if not isinstance(entries, list):
        raise ConfigError(f"codes.{key} must be an array of tables")
    parsed = set()
    for index, entry in enumerate(entries):
        where = f"codes.{key}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
            raise ConfigError(f"{where} needs a 'code' string")
        system = entry.get("system")
        if system is not None and not isinstance(system, str):
            raise ConfigError(f"{where}.system must be a string")
        parsed.add(LocalCode(system=system, code=entry["code"]))
    return frozenset(parsed)
