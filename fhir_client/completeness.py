"""Whether a search was read whole: the shapes of a searchset that make a read incomplete.

A read is incomplete when a searchset's `entry` is not a list; an entry is not an object or has no
`resource`; a `match` entry (`search.mode` `match` or absent) has no `resourceType` or another type
than the one searched; or paging stops early (a `next` link that fails, or fewer `match` entries
read than a `total` the server gave). Included resources and `outcome` entries are fine. The same
rules serve pages the client fetched and searchsets an EHR sent another way (CDS Hooks prefetch):
a caller never skips what it cannot read, it says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir_client.fhir_json import FhirJson

__all__ = ["PageReading", "read_searchset_page", "short_of_total", "total_of"]

# One problem per kind is enough to say what was wrong; the rest repeat it.
_MAX_PROBLEMS = 3


@dataclass(frozen=True, slots=True)
class PageReading:
    """What one searchset page held: its resources (match and include, no outcomes), how many
    were `match` entries of the searched type, and the reasons it cannot be read whole."""

    resources: tuple[FhirJson, ...]
    matches: int
    problems: tuple[str, ...]


def read_searchset_page(bundle: object, resource_type: str) -> PageReading:
    """Read one page of a search for `resource_type`, naming every shape that makes it incomplete."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return PageReading((), 0, ("the answer is not a Bundle",))
    entries = bundle.get("entry")
    if entries is None:
        return PageReading((), 0, ())
    if not isinstance(entries, list):
        return PageReading((), 0, ("its entry is not a list",))
    resources: list[FhirJson] = []
    problems: list[str] = []
    matches = 0
    for position, entry in enumerate(entries, start=1):
        problem, resource, is_match = _read_entry(entry, resource_type)
        if problem is not None:
            if len(problems) < _MAX_PROBLEMS:
                problems.append(f"entry {position} {problem}")
            continue
        if resource is not None:
            resources.append(resource)
            matches += is_match
    return PageReading(tuple(resources), matches, tuple(problems))


def total_of(bundle: object) -> int | None:
    """The searchset's `total` when the server gave a usable one."""
    total = bundle.get("total") if isinstance(bundle, dict) else None
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return None


def short_of_total(matches: int, total: int | None) -> str | None:
    """The problem when fewer `match` entries were read than the server's `total`."""
    if total is not None and matches < total:
        return f"{matches} of the {total} results the EHR counted were read"
    return None


def _read_entry(entry: object, resource_type: str) -> tuple[str | None, FhirJson | None, bool]:
    """(problem, resource, is_match) for one entry; an outcome entry gives no resource."""
    if not isinstance(entry, dict):
        return "is not an object", None, False
    resource = entry.get("resource")
    if not isinstance(resource, dict):
        return "has no resource", None, False
    search = entry.get("search")
    mode = search.get("mode") if isinstance(search, dict) else None
    kind = resource.get("resourceType")
    if mode == "outcome" or (mode == "include" and kind == "OperationOutcome"):
        return None, None, False
    if mode == "include":
        if not isinstance(kind, str) or not kind:
            return "(included) has no resourceType", None, False
        return None, resource, False
    if not isinstance(kind, str) or not kind:
        return "has no resourceType", None, False
    if kind == "OperationOutcome" and mode is None:
        # Servers put warnings about the search in an unmarked OperationOutcome entry.
        return None, None, False
    if kind != resource_type:
        return f"is a {kind[:40]} where {resource_type} was searched", None, False
    return None, resource, True
