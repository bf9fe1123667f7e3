"""`smartapp worklist EXPORT`: every patient of a Bulk Data export evaluated, by urgency.

Whether the policy's rules are verified or await review (and whether they are past their review
date on the as-of date) is said once: under the text summary's heading, and for CSV and NDJSON on
standard error beside the closing summary, so the rows themselves keep their columns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator

from clozapine.review import review_summary
from smartapp.commands.evaluate import UsageError, prepare_run
from smartapp.commands.progress import Progress
from smartapp.worklist import ExportError, WorklistRun, evaluate_export, export_files
from smartapp.worklist.csv_format import CsvWriter, csv_row
from smartapp.worklist.meter import Meter
from smartapp.worklist.run import WorklistRow
from smartapp.worklist.summary_text import summary_line, summary_text


def run_worklist(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    """Run it; the exit status (2 when no line of the export could be read)."""
    prepared = prepare_run(args)
    try:
        export = export_files(args.export)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    run = WorklistRun(prepared.settings, prepared.as_of, prepared.policy, prepared.registry)
    try:
        summary = evaluate_export(export, run, _emitter(args.format, write), _report, _meter)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    rules = f"Rules: {review_summary(prepared.policy.review, prepared.as_of)}"
    if args.format == "text":
        heading, rest = summary_text(summary).split("\n", 1)
        write(f"{heading}\n{rules}\n{rest}")
    else:
        _report(rules)
    sys.stderr.write(f"smartapp: {summary_line(summary)}\n")
    return 0


def _emitter(
    output: str, write: Callable[[str], object]
) -> Callable[[Iterator[WorklistRow]], None]:
    def ndjson(rows: Iterator[WorklistRow]) -> None:
        for row in rows:
            write(row.evaluation_json + "\n")

    def csv(rows: Iterator[WorklistRow]) -> None:
        writer = CsvWriter(write)
        for row in rows:
            writer.row(csv_row(row.evaluation, row.name, row.mrn, row.prescriber, row.complete))

    def text(rows: Iterator[WorklistRow]) -> None:
        for _ in rows:  # the summary keeps the first patients to call as they go by
            pass

    return {"ndjson": ndjson, "csv": csv, "text": text}[output]


def _report(message: str) -> None:
    sys.stderr.write(f"smartapp: {message}\n")


def _meter(total: int | None, label: str, description: str) -> Meter:
    return Progress.for_work(total, sys.stderr, label=label, description=description)
