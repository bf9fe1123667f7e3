"""Answer faults: the engine's real answer reshaped as an imperfect EHR sends it.

A malformed searchset (`entry` an object, an entry that is a string or a number, a null resource,
a match without resourceType, a match of another type), a searchset cut short (fewer match
entries than its `total`, and no next page), a searchset whose next page fails, and a Patient
read answered with another patient's record. Each is what a client must refuse to
read as complete (FHIR R4 bundle.html, search.html#count).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.ehr.faults import Variant

__all__ = ["cut_short", "failing_next", "malformed", "other_patient"]

Json = dict[str, Any]


def _is_match(entry: object) -> bool:
    search = entry.get("search") if isinstance(entry, dict) else None
    mode = search.get("mode") if isinstance(search, dict) else None
    return mode in (None, "match")


def malformed(bundle: Json, variant: Variant, resource_type: str) -> Json:
    """The searchset with its first match entry (or its entry list) spoilt as `variant` says;
    a search that found nothing gains one spoilt entry, so the fault always shows."""
    spoilt = copy.deepcopy(bundle)
    found = spoilt.get("entry")
    entries: list[Any] = found if isinstance(found, list) else []
    matches = [entry for entry in entries if _is_match(entry)]
    if not matches:
        entry: Json = {
            "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{len(entries):012d}",
            "resource": {"resourceType": resource_type, "id": "sandbox-spoilt"},
            "search": {"mode": "match"},
        }
        entries.append(entry)
        matches = [entry]
    first = matches[0]
    if variant is Variant.ENTRY_OBJECT:
        spoilt["entry"] = first
        return spoilt
    if variant in (Variant.ENTRY_STRING, Variant.ENTRY_NUMBER):
        place = next(i for i, entry in enumerate(entries) if entry is first)
        entries[place] = "sandbox-spoilt" if variant is Variant.ENTRY_STRING else 7
        spoilt["entry"] = entries
        return spoilt
    if variant is Variant.NULL_RESOURCE:
        first["resource"] = None
    elif variant is Variant.MISSING_RESOURCE_TYPE:
        first["resource"].pop("resourceType", None)
    else:
        first["resource"] = {"resourceType": "Basic", "id": first["resource"].get("id")}
    spoilt["entry"] = entries
    return spoilt


def cut_short(bundle: Json) -> Json:
    """The searchset as a server that stopped early sends it: no next link, and fewer match
    entries than the `total` it states (the last match dropped when there was no next page)."""
    short = copy.deepcopy(bundle)
    links = [link for link in short.get("link") or [] if isinstance(link, dict)]
    had_next = any(link.get("relation") == "next" for link in links)
    short["link"] = [link for link in links if link.get("relation") != "next"]
    entries = [entry for entry in short.get("entry") or [] if isinstance(entry, dict)]
    matches = sum(1 for entry in entries if _is_match(entry))
    total = short.get("total")
    claimed = total if isinstance(total, int) and not isinstance(total, bool) else matches
    if not had_next and matches:
        last = max(i for i, entry in enumerate(entries) if _is_match(entry))
        entries.pop(last)
        matches -= 1
    short["entry"] = entries
    short["total"] = max(claimed, matches + 1)
    return short


def failing_next(bundle: Json, next_url: str) -> Json:
    """The searchset with its `next` link (added, or in place of its own) leading to `next_url`,
    a page that fails: the entries read so far are only part of the answer."""
    paged = copy.deepcopy(bundle)
    links = [link for link in paged.get("link") or [] if isinstance(link, dict)]
    paged["link"] = [link for link in links if link.get("relation") != "next"] + [
        {"relation": "next", "url": next_url}
    ]
    return paged


def other_patient(patient: Json, other: Json | None) -> Json:
    """Another patient's record: `other` when the engine has it, else this one under another id."""
    if other is not None:
        return other
    moved = copy.deepcopy(patient)
    moved["id"] = f"{patient.get('id', 'patient')}-other"[:64]
    return moved
