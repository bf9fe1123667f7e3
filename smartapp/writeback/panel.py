"""The chart page's write-back panel: each finding's place in the chart, retirements, results.

Built once per page by the partial (`writeback_panel(page)`). Building it also runs the
lifecycle (earlier Flags and Tasks whose finding no longer holds are retired) and, where the
organisation switched it on (SMARTAPP_AUTO_WRITEBACK), writes what is not yet in the chart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, g

from fhir_client import FhirError
from fhir_mappings.outbound import WritebackTarget
from smartapp.chart.page_model import PageModel
from smartapp.db import LedgerEntry
from smartapp.ehr.evaluation import evaluate_launch
from smartapp.ehr.request import request_access
from smartapp.errors import SmartAppError
from smartapp.services import Services
from smartapp.writeback.capability import CapabilityCache, WriteDecision
from smartapp.writeback.launch_writeback import LaunchWriteback
from smartapp.writeback.lifecycle import LifecycleChange
from smartapp.writeback.service import WriteOutcome

LOGGER = logging.getLogger("smartapp.writeback")
CACHE_KEY = "smartapp.writeback.capabilities"
OUTCOMES_KEY = "writeback_outcomes"
CHANGES_KEY = "writeback_changes"


@dataclass(frozen=True, slots=True)
class PanelRow:
    """One triggering finding and where it stands in the chart."""

    code: str
    title: str
    status: str
    reference: str | None
    words: str


@dataclass(frozen=True, slots=True)
class WritebackPanel:
    """What the partial shows."""

    rows: tuple[PanelRow, ...] = ()
    decision: WriteDecision | None = None
    changes: tuple[LifecycleChange, ...] = ()
    outcomes: tuple[WriteOutcome, ...] = ()
    automatic: bool = False
    problem: str | None = None

    @property
    def can_write(self) -> bool:
        """Whether to offer the write button."""
        return bool(self.rows) and self.decision is not None and self.decision.can_write


def services() -> Services:
    """The app's shared services."""
    return current_app.extensions["smartapp"]  # type: ignore[no-any-return]


def capability_cache() -> CapabilityCache:
    """The app's cache of EHR capabilities (set up when the blueprint is registered)."""
    return current_app.extensions[CACHE_KEY]  # type: ignore[no-any-return]


def request_id() -> str | None:
    """This request's id, kept with audit events."""
    value = g.get("request_id")
    return value if isinstance(value, str) else None


def launch_writeback() -> LaunchWriteback:
    """Write-back for this request's launch session."""
    app = services()
    return LaunchWriteback(app, request_access(app), capability_cache(), request_id())


def chart_panel(page: PageModel) -> WritebackPanel | None:
    """The panel for the page's evaluation (None when there is nothing to show)."""
    outcomes = tuple(g.get(OUTCOMES_KEY) or ())
    try:
        return _panel(page, outcomes)
    except (FhirError, SmartAppError) as error:
        LOGGER.warning("writeback panel", extra={"fields": {"kind": type(error).__name__}})
        message = error.user_message if isinstance(error, FhirError) else str(error)
        return WritebackPanel(outcomes=outcomes, problem=message)


def _panel(page: PageModel, outcomes: tuple[WriteOutcome, ...]) -> WritebackPanel | None:
    writeback = launch_writeback()
    evaluation = page.evaluation
    entries = writeback.entries()
    earlier = tuple(g.get(CHANGES_KEY) or ())  # made by this request's write, before it wrote
    changes = (*earlier, *writeback.lifecycle(evaluation, entries))
    targets = writeback.targets(evaluation)
    if not targets and not outcomes and not changes:
        return None
    decision = writeback.decision() if targets else None
    automatic = False
    if not outcomes and decision is not None and decision.can_write:
        unwritten = _unwritten(targets, entries)
        if unwritten and services().settings.auto_writeback:
            launch = evaluate_launch(services(), writeback.access)
            outcomes = tuple(writeback.write(launch, unwritten, automatic=True))
            automatic = True
    if outcomes or changes:
        entries = writeback.entries()
    rows = tuple(_row(target, entries) for target in targets)
    return WritebackPanel(rows, decision, changes, outcomes, automatic)


def _unwritten(targets: Sequence[WritebackTarget], entries: list[LedgerEntry]) -> set[str]:
    known = {_identity(e) for e in entries if e.status != "failed"}
    return {t.finding.code for t in targets if t.identifier_tuple not in known}


def _identity(entry: LedgerEntry) -> tuple[str, str]:
    return entry.key.identifier_system, entry.key.identifier_value


def _row(target: WritebackTarget, entries: list[LedgerEntry]) -> PanelRow:
    entry = next((e for e in entries if _identity(e) == target.identifier_tuple), None)
    code = target.finding.code
    if entry is None:
        return PanelRow(code, target.title, "new", None, "not in the chart yet")
    reference = f"{entry.key.resource_type}/{entry.resource_id}" if entry.resource_id else None
    words = {
        "written": f"in the chart as {reference}",
        "pending": "being written",
        "failed": "the last attempt to write it failed",
    }.get(entry.status, f"in the chart as {reference} ({entry.status})")
    return PanelRow(code, target.title, entry.status, reference, words)
