"""The chart page's write-back panel: each finding's place in the chart, changes, results.

Built by the chart view before rendering, from what this request already read (the evaluation,
the ledger, the EHR's capabilities, the identifier search confirming what the ledger shows in
the chart) and the notice of the POST that redirected here; it writes
nothing. Where the EHR's copies need changing (a Flag to retire) or, with
SMARTAPP_AUTO_WRITEBACK, findings are not yet in the chart, the panel carries a `sync` form
that the page posts itself after loading (static/writeback-sync.js), with its CSRF token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fhir_mappings.outbound import WritebackTarget
from smartapp.db import LedgerEntry
from smartapp.writeback.capability import WriteDecision
from smartapp.writeback.confirmation import ChartCheck
from smartapp.writeback.lifecycle import LifecycleChange, PlannedChange
from smartapp.writeback.notice import SYNC, Notice
from smartapp.writeback.service import IN_CHART, WriteOutcome


@dataclass(frozen=True, slots=True)
class PanelRow:
    """One triggering finding and where it stands in the chart."""

    code: str
    title: str
    status: str
    reference: str | None
    words: str

    @property
    def in_chart(self) -> bool:
        """Whether the chart already holds the resource written for it."""
        return self.status in IN_CHART and self.reference is not None


@dataclass(frozen=True, slots=True)
class WritebackPanel:
    """What the partial shows."""

    rows: tuple[PanelRow, ...] = ()
    decision: WriteDecision | None = None
    changes: tuple[LifecycleChange, ...] = ()
    outcomes: tuple[WriteOutcome, ...] = ()
    automatic: bool = False
    problem: str | None = None
    sync_needed: bool = False
    sync_automatically: bool = False

    @property
    def can_write(self) -> bool:
        """Whether to offer the write button."""
        return bool(self.rows) and self.decision is not None and self.decision.can_write

    @property
    def button_words(self) -> str:
        """The write button's label: what it writes, and what the chart already holds."""
        kind = self.decision.resource_type if self.decision else None
        written = [row for row in self.rows if row.in_chart]
        waiting = len(self.rows) - len(written)
        if not written:
            return f"Write {_count(waiting, 'finding')} to the chart as {kind}"
        held = ", ".join(row.reference or "" for row in written)
        if waiting:
            return f"Write {_count(waiting, 'more finding')} as {kind} (in the chart: {held})"
        return f"Already in the chart: {held} (check again)"


def build_panel(
    targets: Sequence[WritebackTarget],
    entries: Sequence[LedgerEntry],
    decision: WriteDecision | None,
    planned: Sequence[PlannedChange],
    *,
    notice: Notice | None = None,
    unwritten_to_sync: bool = False,
    check: ChartCheck | None = None,
) -> WritebackPanel | None:
    """The panel for this request (None when there is nothing to show or do).

    `unwritten_to_sync` is True when automatic write-back is on and some target is not in the
    chart: the page's own POST writes it. `check` is the EHR's answer on what the ledger shows
    in the chart (without one, nothing is said to be in the chart). A page shown right after a sync does not post again,
    so a change the EHR refuses is reported, not retried in a loop.
    """
    changes = (
        *(notice.changes if notice else ()),
        *(p.by_hand() for p in planned if not p.allowed),
    )
    outcomes = notice.outcomes if notice else ()
    if not targets and not outcomes and not changes and not planned:
        return None
    writable = decision is not None and decision.can_write
    sync_needed = any(p.allowed for p in planned) or (unwritten_to_sync and writable)
    return WritebackPanel(
        rows=tuple(_row(target, entries, check or ChartCheck()) for target in targets),
        decision=decision,
        changes=tuple(changes),
        outcomes=tuple(outcomes),
        automatic=bool(notice and notice.automatic),
        sync_needed=sync_needed,
        sync_automatically=sync_needed and not (notice and notice.kind == SYNC),
    )


def problem_panel(message: str, notice: Notice | None) -> WritebackPanel:
    """The panel when the EHR's write-back state could not be read; the notice still shows."""
    return WritebackPanel(
        changes=notice.changes if notice else (),
        outcomes=notice.outcomes if notice else (),
        automatic=bool(notice and notice.automatic),
        problem=message,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _identity(entry: LedgerEntry) -> tuple[str, str]:
    return entry.key.identifier_system, entry.key.identifier_value


def _row(target: WritebackTarget, entries: Sequence[LedgerEntry], check: ChartCheck) -> PanelRow:
    entry = next((e for e in entries if _identity(e) == target.identifier_tuple), None)
    code = target.finding.code
    if entry is None:
        return PanelRow(code, target.title, "new", None, "not in the chart yet")
    reference = f"{entry.key.resource_type}/{entry.resource_id}" if entry.resource_id else None
    state = check.state(entry)
    if state == "missing":
        words = (
            f"not in the chart: {reference} is no longer in the EHR (deleted or entered in error"
            " there); it can be written again"
        )
        return PanelRow(code, target.title, "missing", None, words)
    if state in ("unconfirmed", "not-asked") and entry.status in IN_CHART:
        why = check.reason(entry)
        reason = f" ({why})" if why else ""
        words = f"written as {reference}, but the EHR could not confirm it is still there{reason}"
        return PanelRow(code, target.title, "unconfirmed", None, words)
    words = {
        "written": f"in the chart as {reference}",
        "pending": "being written",
        "failed": "the last attempt to write it failed",
    }.get(entry.status, f"in the chart as {reference} ({entry.status})")
    return PanelRow(code, target.title, entry.status, reference, words)
