"""One worklist run: the export grouped, each patient evaluated by the one engine, then ordered.

Each patient's evaluation is what `smartapp evaluate` prints for that patient's Bundle: the same
mapping (`patient_facts_from_bundle`), engine (`clozapine.evaluate`) and JSON. Everything is
spilled to a temporary SQLite database, so memory stays flat as the population grows.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from clozapine import Evaluation, Policy, Registry, evaluate, evaluation_to_json
from fhir_mappings import BundleError, MappingSettings, patient_facts_from_bundle
from fhir_mappings.fhir_json import FhirJson
from smartapp.worklist.export import Export, ExportError
from smartapp.worklist.grouping import (
    PatientBundle,
    ReadCounts,
    count_outcomes,
    load_export,
    patient_bundles,
    shown,
)
from smartapp.worklist.meter import MeterFactory, Report
from smartapp.worklist.ordering import OVERALL_ORDER, sort_key
from smartapp.worklist.patient_row import (
    patient_mrn,
    patient_name,
    patient_phone,
    practitioner_name,
    prescriber,
)
from smartapp.worklist.spill import SpillStore

# How many patients the summary names in each of its lists.
LISTED = 20


@dataclass(frozen=True, slots=True)
class WorklistRun:
    """What every patient of one run is evaluated with (as `smartapp evaluate` is); `observe`,
    when set, is given each patient's reference, evaluation and whether its data was whole
    (the fetch's write-back)."""

    settings: MappingSettings
    as_of: date
    policy: Policy
    registry: Registry | None
    observe: Callable[[str, Evaluation, bool], None] | None = None


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One patient of the ordered worklist: the evaluation's JSON line and the cells beside it."""

    patient: str
    evaluation_json: str
    name: str
    mrn: str
    prescriber: str
    complete: bool
    phone: str = ""
    # What could not be read of the patient's records (file and line, no patient data).
    problems: tuple[str, ...] = ()

    @property
    def evaluation(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.evaluation_json)
        return loaded


@dataclass(slots=True)
class WorklistSummary:
    """The run's counts, and the first patients of the lists a coordinator works from."""

    as_of: date
    policy: str
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OVERALL_ORDER, 0))
    read: ReadCounts = field(default_factory=ReadCounts)
    export_errors: int = 0
    incomplete: int = 0
    incomplete_listed: list[str] = field(default_factory=list)
    not_evaluated: int = 0
    not_evaluated_listed: list[str] = field(default_factory=list)
    orphans: int = 0
    orphans_listed: list[str] = field(default_factory=list)
    call_first: list[WorklistRow] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return sum(self.by_status.values())

    @property
    def readable(self) -> bool:
        """Whether any line of the export could be read (exit 2 when none could)."""
        return self.read.lines > self.read.unusable


def evaluate_export(
    export: Export,
    run: WorklistRun,
    emit: Callable[[Iterator[WorklistRow]], None],
    report: Report,
    meter: MeterFactory,
    *,
    spill_folder: Path | None = None,
    summary: WorklistSummary | None = None,
) -> WorklistSummary:
    """Read, group, evaluate and order the export; `emit` is given the ordered rows.

    The counts are complete in `summary` (the caller's, when given) by the time `emit` runs, so
    it can store them with the rows.
    """
    summary = summary or WorklistSummary(run.as_of, run.policy.policy_id)
    with tempfile.TemporaryDirectory(prefix="smartapp-worklist-", dir=spill_folder) as folder:
        store = SpillStore(Path(folder))
        try:
            reading = meter(export.total_bytes, "lines", "reading the export")
            try:
                summary.read = load_export(export, store, report, reading)
            finally:
                reading.finish()
            if not summary.readable:
                raise ExportError("no line of the export could be read")
            summary.export_errors = summary.read.outcomes + count_outcomes(
                export.error_files, report
            )
            names = [file.name for file in export.files]
            for reference, count in store.orphans():
                summary.orphans += 1
                _list(summary.orphans_listed, reference)
                cut = [f"{names[f]}:{n}" for f, n in store.unusable_lines(reference)]
                why = (
                    f"a line naming it could not be read ({', '.join(cut)})"
                    if cut
                    else "the export has no such Patient"
                )
                report(
                    f"{shown(reference)}: {count} group(s) of resources name it, but {why};"
                    " not evaluated"
                )
            evaluating = meter(store.patient_count(), "patients", "evaluating")
            try:
                for bundle in patient_bundles(store, export, report, summary.read):
                    _evaluate_one(bundle, run, store, summary, report)
                    evaluating.advance(1)
            finally:
                evaluating.finish()
            rows = (
                WorklistRow(p, e, n, m, pr, bool(c), ph or "", tuple(json.loads(pb or "[]")))
                for p, e, n, m, pr, c, ph, pb in store.results()
            )
            emit(_noting_first(rows, summary))
        finally:
            store.close()
    return summary


def _evaluate_one(
    bundle: PatientBundle,
    run: WorklistRun,
    store: SpillStore,
    summary: WorklistSummary,
    report: Report,
) -> None:
    if bundle.problems:
        summary.incomplete += 1
        _list(summary.incomplete_listed, bundle.patient)
        report(f"{shown(bundle.patient)}: data incomplete: " + "; ".join(bundle.problems))
    if bundle.bundle is None:
        _not_evaluated(bundle.patient, "its Patient could not be read", summary, report)
        return
    try:
        facts = patient_facts_from_bundle(bundle.bundle, run.settings)[0]
        evaluation = evaluate(facts, run.as_of, run.policy, run.registry)
    except BundleError as exc:
        _not_evaluated(bundle.patient, str(exc), summary, report)
        return
    except Exception as exc:  # one patient must not stop a population: report it and go on
        _not_evaluated(
            bundle.patient,
            f"internal error ({type(exc).__name__}); please report it",
            summary,
            report,
        )
        return
    if run.observe is not None:
        run.observe(bundle.patient, evaluation, not bundle.problems)
    document = evaluation_to_json(evaluation)
    line = json.dumps(document, ensure_ascii=False)
    key = sort_key(document)
    resources = bundle.bundle["entry"]
    patient_json: FhirJson = resources[0]["resource"]
    who = prescriber(facts, run.policy, run.as_of)
    shown_prescriber = ""
    if who is not None:
        named = _practitioner(resources, who)
        shown_prescriber = f"{named} ({who})" if named else who
    summary.by_status[document["overall"]] = summary.by_status.get(document["overall"], 0) + 1
    store.add_result(
        (
            *key,
            line,
            patient_name(patient_json),
            patient_mrn(patient_json, run.as_of, run.settings.timezone),
            shown_prescriber,
            not bundle.problems,
            patient_phone(patient_json, run.as_of),
            json.dumps(bundle.problems),
        )
    )


def _practitioner(entries: list[dict[str, FhirJson]], name: str) -> str:
    for entry in entries:
        resource = entry["resource"]
        if (
            resource.get("resourceType") == "Practitioner"
            and f"Practitioner/{resource.get('id')}" == name
        ):
            return practitioner_name(resource)
    return ""


def _not_evaluated(patient: str, reason: str, summary: WorklistSummary, report: Report) -> None:
    summary.not_evaluated += 1
    _list(summary.not_evaluated_listed, patient)
    report(f"{shown(patient)}: not evaluated: {reason}")


def _noting_first(rows: Iterator[WorklistRow], summary: WorklistSummary) -> Iterator[WorklistRow]:
    """The rows as they are, keeping the first patients to call (action required, attention)."""
    for row in rows:
        if len(summary.call_first) < LISTED and row.evaluation["overall"] in OVERALL_ORDER[:2]:
            summary.call_first.append(row)
        yield row


def _list(names: list[str], name: str) -> None:
    if len(names) < LISTED:
        names.append(name)
