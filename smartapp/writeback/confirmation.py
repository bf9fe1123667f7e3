"""What the ledger says is in the chart, confirmed against the EHR with one identifier search.

The page says a finding is "in the chart" only when the EHR, asked during this request, holds
the resource: a Flag deleted (or entered in error) in the EHR is shown as missing and may be
written again, and an EHR that cannot be asked leaves the finding unconfirmed, never "in the
chart". One search per written type (normally one), made alongside the page's other reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from fhir_client import FhirClient, FhirError
from launch import scopes_grant
from smartapp.db import LedgerEntry
from smartapp.writeback.service import IN_CHART, carries, search_token

Identifier = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ChartCheck:
    """The identifiers asked about, those the EHR holds (with their `Type/id`), and why the
    EHR could not be asked (None when it answered)."""

    asked: frozenset[Identifier] = frozenset()
    present: tuple[tuple[Identifier, str], ...] = ()
    problem: str | None = None
    unsearchable: tuple[str, ...] = ()

    def reason(self, entry: LedgerEntry) -> str | None:
        """Why the entry could not be confirmed, if it could not."""
        kind = entry.key.resource_type
        if kind in self.unsearchable:
            return f"the sign-in may not search {kind} records (scope patient/{kind}.s)"
        return self.problem if identity(entry) in self.asked else None

    def state(self, entry: LedgerEntry) -> str:
        """`confirmed`, `missing` (the EHR answered without it), `unconfirmed` (no answer), or
        `not-asked` (the ledger does not show it in the chart)."""
        identifier = identity(entry)
        if identifier not in self.asked:
            return "not-asked"
        if self.problem is not None:
            return "unconfirmed"
        return "confirmed" if identifier in dict(self.present) else "missing"

    @property
    def gone(self) -> frozenset[Identifier]:
        """The identifiers the EHR was asked about and does not hold."""
        if self.problem is not None:
            return frozenset()
        return self.asked - {identifier for identifier, _ in self.present}


def identity(entry: LedgerEntry) -> Identifier:
    """The (system, value) identifier of a ledger entry."""
    return entry.key.identifier_system, entry.key.identifier_value


def in_chart_entries(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The entries the ledger shows in the chart (those a search must confirm)."""
    return [e for e in entries if e.status in IN_CHART and e.resource_id]


def check_chart(
    client: FhirClient, patient_id: str, entries: Iterable[LedgerEntry], scopes: Iterable[str]
) -> ChartCheck:
    """Search the EHR for the identifiers the ledger shows in the chart for the patient (of the
    types the sign-in may search; the others stay unconfirmed)."""
    scopes = list(scopes)
    by_type: dict[str, list[Identifier]] = defaultdict(list)
    unsearchable: set[str] = set()
    for entry in in_chart_entries(entries):
        kind = entry.key.resource_type
        if scopes_grant(scopes, kind, "s"):
            by_type[kind].append(identity(entry))
        else:
            unsearchable.add(kind)
    asked = frozenset(i for identifiers in by_type.values() for i in identifiers)
    present: list[tuple[Identifier, str]] = []
    try:
        for resource_type, identifiers in by_type.items():
            tokens = ",".join(search_token(identifier) for identifier in identifiers)
            found = client.search(resource_type, {"patient": patient_id, "identifier": tokens})
            for resource in found:
                if resource.get("resourceType") != resource_type:
                    continue
                for identifier in identifiers:
                    if carries(resource, identifier):
                        present.append((identifier, f"{resource_type}/{resource.get('id')}"))
    except FhirError as error:
        return ChartCheck(asked, problem=error.user_message, unsearchable=tuple(unsearchable))
    return ChartCheck(asked, tuple(present), unsearchable=tuple(sorted(unsearchable)))
