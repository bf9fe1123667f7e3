"""What a write-back POST did, kept in the session row for the page its 303 redirect shows.

The POST answers with a redirect to the chart (so a reload never posts again); the chart shows
the notice once and clears it. Stored as JSON: outcomes and lifecycle changes, codes and
references and the sentences already written for the prescriber (no patient data beyond the
references the page shows anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartapp.writeback.lifecycle import LifecycleChange
from smartapp.writeback.service import OutcomeKind, WriteOutcome

WRITE = "write"
SYNC = "sync"


@dataclass(frozen=True, slots=True)
class Notice:
    """One POST's result: `kind` is `write` (the button) or `sync` (the page's own update)."""

    kind: str
    outcomes: tuple[WriteOutcome, ...] = ()
    changes: tuple[LifecycleChange, ...] = ()
    automatic: bool = False

    def to_json(self) -> dict[str, Any]:
        """The session row's `notice` value."""
        return {
            "kind": self.kind,
            "automatic": self.automatic,
            "outcomes": [
                {
                    "code": o.code,
                    "kind": o.kind.value,
                    "message": o.message,
                    "resource_type": o.resource_type,
                    "resource_id": o.resource_id,
                }
                for o in self.outcomes
            ],
            "changes": [
                {"reference": c.reference, "code": c.code, "done": c.done, "message": c.message}
                for c in self.changes
            ],
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> Notice | None:
        """The notice back from the session row (None when there is none or it is unreadable)."""
        if not isinstance(stored, dict) or stored.get("kind") not in (WRITE, SYNC):
            return None
        try:
            outcomes = tuple(
                WriteOutcome(
                    o["code"],
                    OutcomeKind(o["kind"]),
                    o["message"],
                    o.get("resource_type"),
                    o.get("resource_id"),
                )
                for o in stored.get("outcomes") or []
            )
            changes = tuple(
                LifecycleChange(c["reference"], c["code"], bool(c["done"]), c["message"])
                for c in stored.get("changes") or []
            )
        except (KeyError, TypeError, ValueError):
            return None
        return cls(stored["kind"], outcomes, changes, bool(stored.get("automatic")))
