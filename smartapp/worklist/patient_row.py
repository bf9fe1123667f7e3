"""The cells a coordinator reads beside an evaluation: the patient's name, MRN and phone, the
prescriber.

From the export's own resources: Patient.name (the official one first) and the current MRN on the
as-of date (the banner's choice, `fhir_mappings.record_number`); the current order's requester (the order the engine's program rules name), by its
Practitioner's name when the export holds it, else by its reference.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from clozapine import PatientFacts, Policy
from clozapine.treatment import current_episode, current_order, treatment_episodes
from fhir_mappings.fhir_json import FhirJson, objs, text
from fhir_mappings.record_number import current_record_number


def patient_name(patient_json: FhirJson) -> str:
    """ "Family, Given Middle" of the official name (else the first), or its text; "" if none."""
    names = objs(patient_json.get("name"))
    if not names:
        return ""
    chosen = next((n for n in names if text(n.get("use")) == "official"), names[0])
    family = text(chosen.get("family")) or ""
    given = " ".join(g for g in (text(x) for x in _list(chosen.get("given"))) if g)
    if family and given:
        return f"{family}, {given}"
    return family or given or text(chosen.get("text")) or ""


def patient_mrn(patient_json: FhirJson, as_of: date, zone: ZoneInfo | None) -> str:
    """The MRN in force on the as-of date (never a retired one); "" if none."""
    found = current_record_number(patient_json, as_of, zone)
    return found.value if found is not None and found.is_mrn else ""


# Which phone a coordinator calls first (FHIR ContactPoint.use); `old` numbers are never shown.
_PHONE_USES = ("mobile", "home", "work", "temp", None)


def patient_phone(patient_json: FhirJson, as_of: date) -> str:
    """The Patient's phone number to call on the as-of date (mobile first, then home, work,
    temporary, unlabelled; never an `old` one or one whose period ended); "" if none."""
    usable = []
    for point in objs(patient_json.get("telecom")):
        value = text(point.get("value"))
        use = text(point.get("use"))
        if text(point.get("system")) != "phone" or not value or use not in _PHONE_USES:
            continue
        ended = (
            text((point.get("period") or {}).get("end"))
            if isinstance(point.get("period"), dict)
            else None
        )
        if ended and ended[:10] < as_of.isoformat():
            continue
        rank = point.get("rank")
        usable.append((_PHONE_USES.index(use), rank if isinstance(rank, int) else 1_000, value))
    return min(usable)[2] if usable else ""


def prescriber(facts: PatientFacts, policy: Policy, as_of: date) -> str | None:
    """The current order's prescriber reference ("Practitioner/x"), or None."""
    if not facts.orders:
        return None
    episodes = treatment_episodes(facts.orders, policy.treatment_gap_days)
    episode = current_episode(episodes, as_of, policy.treatment_gap_days)
    if episode is None:
        return None
    return current_order(episode, as_of).prescriber


def practitioner_name(practitioner_json: FhirJson | None) -> str:
    """ "Given Family" of a Practitioner, or its name's text; "" if none."""
    if practitioner_json is None:
        return ""
    for chosen in objs(practitioner_json.get("name")):
        family = text(chosen.get("family")) or ""
        given = " ".join(g for g in (text(x) for x in _list(chosen.get("given"))) if g)
        shown = " ".join(part for part in (given, family) if part) or text(chosen.get("text"))
        if shown:
            return shown
    return ""


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
