"""A person's name from a Patient or RelatedPerson, as the record writes it, read leniently.

FHIR R4 HumanName (https://hl7.org/fhir/R4/datatypes.html#HumanName): the `official` name
first, else the first; its `text` when given, else its given names and family. Malformed parts
are skipped, never raised on: a name that cannot be read is "".
"""

from __future__ import annotations

from fhir_mappings.fhir_json import FhirJson, objs, text


def person_name(resource_json: FhirJson) -> str:
    """ "Given Middle Family" (or the name's text) of the resource's chosen name; "" if none."""
    names = objs(resource_json.get("name"))
    if not names:
        return ""
    chosen = next((n for n in names if text(n.get("use")) == "official"), names[0])
    written = text(chosen.get("text"))
    if written:
        return written
    given = chosen.get("given")
    parts = [text(part) for part in given] if isinstance(given, list) else []
    return " ".join(part for part in (*parts, text(chosen.get("family"))) if part)
