"""The worklist page's query string read as a PatientQuery and a page number, and back again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from smartapp.db.worklist_runs import SORTS, STATUS_ORDER, PatientQuery

PAGE_SIZE = 50
INCOMPLETE = "data-incomplete"
STATUS_CHOICES = (*STATUS_ORDER, INCOMPLETE)
# The prescriber filter's value for the patients whose order names no prescriber.
NO_PRESCRIBER = "-"


@dataclass(frozen=True, slots=True)
class Listing:
    """What the page was asked to list: the query and the (1-based) page number."""

    query: PatientQuery
    page: int

    def arguments(self, **changed: object) -> dict[str, str]:
        """The query string of this listing with `changed` values (None drops a key)."""
        query = self.query
        values: dict[str, object] = {
            "status": query.status,
            "prescriber": NO_PRESCRIBER if query.prescriber == "" else query.prescriber,
            "due_by": query.due_by.isoformat() if query.due_by else None,
            "sort": None if query.sort == "urgency" else query.sort,
            "order": "desc" if query.descending else None,
            "page": None if self.page == 1 else str(self.page),
        }
        values.update(changed)
        return {key: str(value) for key, value in values.items() if value is not None}


def read_listing(args: Mapping[str, str]) -> Listing:
    """The listing the query string asks for; a value that is not one of the choices is left
    out (the page shows the filters actually applied)."""
    status = args.get("status") or None
    prescriber = args.get("prescriber") or None
    sort = args.get("sort") or "urgency"
    return Listing(
        PatientQuery(
            status=status if status in STATUS_CHOICES else None,
            prescriber="" if prescriber == NO_PRESCRIBER else prescriber,
            due_by=_date(args.get("due_by", "")),
            sort=sort if sort in SORTS else "urgency",
            descending=args.get("order") == "desc",
        ),
        _page(args.get("page", "")),
    )


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _page(text: str) -> int:
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else 1
