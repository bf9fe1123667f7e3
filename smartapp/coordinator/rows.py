"""A stored patient as one row of the worklist page: the cells, the status words, the findings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smartapp.db.worklist_runs import StoredPatient
from smartapp.web.findings import page_units

STATUS_WORDS = {
    "action-required": "Action required",
    "attention": "Attention",
    "ok": "OK",
    "not-applicable": "Not on clozapine",
}
INCOMPLETE_WORDS = (
    "Data incomplete: some of this patient's records in the export could not be read (lines"
    " naming this patient were unreadable), so results, orders or conditions may be missing"
    " from this evaluation. Open the patient's chart before relying on it."
)


@dataclass(frozen=True, slots=True)
class FindingCell:
    """One finding with its rule and source, as the chart page lists it."""

    code: str
    severity: str
    message: str
    rule: str
    citation: str


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One patient as the table shows it; `status` is never "OK" for incomplete data."""

    patient: str
    name: str
    mrn: str
    phone: str
    prescriber: str
    overall: str
    status: str
    complete: bool
    anc: str
    next_due: str
    overdue: str
    recommendation: str
    findings: tuple[FindingCell, ...]
    problems: tuple[str, ...] = ()


def worklist_row(stored: StoredPatient) -> WorklistRow:
    """The row of one stored patient (its evaluation JSON read here, for this page only)."""
    evaluation: dict[str, Any] = json.loads(stored.evaluation_json)
    words = STATUS_WORDS.get(stored.overall, stored.overall)
    if not stored.data_complete:
        words = "Data incomplete" if stored.overall == "ok" else f"{words}, data incomplete"
    return WorklistRow(
        patient=stored.patient,
        name=stored.name,
        mrn=stored.mrn,
        phone=stored.phone,
        prescriber=stored.prescriber,
        overall=stored.overall,
        status=words,
        complete=stored.data_complete,
        anc=_anc(evaluation.get("anc")),
        next_due=_due(evaluation.get("monitoring"), evaluation.get("anc")),
        overdue=_overdue(stored.days_overdue),
        recommendation=str(evaluation.get("recommendation") or ""),
        findings=tuple(_finding(f) for f in evaluation.get("findings") or ()),
        problems=stored.problems,
    )


def _anc(anc: Any) -> str:
    if not isinstance(anc, dict) or anc.get("value_per_ul") is None:
        return "none on file"
    comparator = anc.get("comparator") or ""
    shown = f"{comparator}{anc['value_per_ul']}/µL on {anc.get('collected') or 'unknown date'}"
    category = anc.get("category")
    return f"{shown} ({category})" if category else shown


def _due(monitoring: Any, anc: Any) -> str:
    due = monitoring.get("next_due") if isinstance(monitoring, dict) else None
    if due:
        return str(due)
    return "now (no ANC on file)" if not anc else "no date"


def _overdue(days: int | None) -> str:
    if not days:
        return ""
    return f"{days} day overdue" if days == 1 else f"{days} days overdue"


def _finding(finding: dict[str, Any]) -> FindingCell:
    return FindingCell(
        code=str(finding.get("code", "")),
        severity=str(finding.get("severity", "")),
        message=page_units(str(finding.get("message", ""))),
        rule=str(finding.get("rule", "")),
        citation=str(finding.get("citation", "")),
    )
