"""The worklist for a coordinator at a terminal: counts by status, the first patients to call."""

from __future__ import annotations

from smartapp.worklist.grouping import shown
from smartapp.worklist.ordering import OVERALL_ORDER
from smartapp.worklist.run import WorklistRow, WorklistSummary


def summary_text(summary: WorklistSummary) -> str:
    """The full summary (`--format text`), every figure that needs a look said first."""
    lines = [
        f"Clozapine worklist on {summary.as_of} (policy {summary.policy}):"
        f" {summary.evaluated:,} patients evaluated",
        *(f"  {status:<16}{summary.by_status.get(status, 0):>8,}" for status in OVERALL_ORDER),
    ]
    lines.extend(_problems(summary))
    if summary.call_first:
        lines.append("")
        lines.append("Call first:")
        lines.extend(f"  {n:>2}. {_row(row)}" for n, row in enumerate(summary.call_first, 1))
    return "\n".join(lines) + "\n"


def summary_line(summary: WorklistSummary) -> str:
    """The one-line summary the command ends with on stderr (ndjson and csv output)."""
    counts = ", ".join(f"{status} {summary.by_status.get(status, 0):,}" for status in OVERALL_ORDER)
    parts = [f"worklist: {summary.evaluated:,} patients ({counts})"]
    parts.append(f"{summary.read.unusable:,} unreadable lines")
    parts.append(f"{summary.incomplete:,} data-incomplete")
    if summary.not_evaluated:
        parts.append(f"{summary.not_evaluated:,} not evaluated")
    if summary.orphans:
        parts.append(f"{summary.orphans:,} referenced Patients missing from the export")
    if summary.export_errors:
        parts.append(f"{summary.export_errors:,} export errors reported by the server")
    return "; ".join(parts)


def _problems(summary: WorklistSummary) -> list[str]:
    lines = []
    if summary.incomplete:
        lines.append(
            f"Data incomplete: {summary.incomplete:,} patients (a line naming them could not be"
            " read; their evaluation may lack data): "
            + _names(summary.incomplete_listed, summary.incomplete)
        )
    if summary.not_evaluated:
        lines.append(
            f"Not evaluated: {summary.not_evaluated:,} patients: "
            + _names(summary.not_evaluated_listed, summary.not_evaluated)
        )
    if summary.orphans:
        lines.append(
            f"Missing Patients: resources name {summary.orphans:,} patients the export does not hold"
            " (not evaluated): " + _names(summary.orphans_listed, summary.orphans)
        )
    if summary.read.unusable:
        lines.append(f"Unreadable lines: {summary.read.unusable:,} (each listed on stderr)")
    if summary.export_errors:
        lines.append(
            f"Export errors: the server reported {summary.export_errors:,} problems while"
            " exporting; resources may be missing for any patient"
        )
    return ["", *lines] if lines else []


def _names(listed: list[str], total: int) -> str:
    more = total - len(listed)
    return ", ".join(shown(name) for name in listed) + (f" and {more:,} more" if more > 0 else "")


def _row(row: WorklistRow) -> str:
    evaluation = row.evaluation
    monitoring = evaluation.get("monitoring")
    due = monitoring if isinstance(monitoring, dict) else {}
    anc = evaluation.get("anc")
    if not isinstance(anc, dict):
        lab = "no ANC on file"
    else:
        comparator = anc.get("comparator") or ""
        lab = f"ANC {comparator}{anc.get('value_per_ul')}/uL on {anc.get('collected')} ({anc.get('category')})"
    when = f"due {due.get('next_due')}" if due.get("next_due") else "no due date"
    if due.get("days_overdue"):
        when += f", {due.get('days_overdue')} days overdue"
    who = " ".join(part for part in (row.name, f"MRN {row.mrn}" if row.mrn else "") if part)
    findings = evaluation.get("findings")
    codes = ";".join(str(f["code"]) for f in findings) if isinstance(findings, list) else ""
    text = (
        f"{row.patient} {who} - {evaluation.get('overall')}, {evaluation.get('recommendation')};"
        f" {lab}; {when}; findings {codes}"
    )
    if row.prescriber:
        text += f"; prescriber {row.prescriber}"
    if not row.complete:
        text += " [DATA INCOMPLETE]"
    return shown(text)
