"""The worklist as CSV (population.md): the columns a coordinator sorts, no formula injection."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

COLUMNS = (
    "patient",
    "name",
    "mrn",
    "prescriber",
    "overall",
    "recommendation",
    "anc_per_ul",
    "anc_comparator",
    "anc_category",
    "anc_collected",
    "next_due",
    "days_overdue",
    "findings",
    "data_complete",
)
# A cell a spreadsheet would run as a formula (the doc's four; tab and carriage return too).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, prefixed with ' when a spreadsheet would read it as a formula."""
    shown = "" if value is None else str(value)
    return "'" + shown if shown.startswith(_FORMULA_STARTS) else shown


def csv_row(
    evaluation: dict[str, Any], name: str, mrn: str, prescriber: str, complete: bool
) -> list[str]:
    """One patient's row, in COLUMNS order, every cell made safe."""
    anc = evaluation.get("anc") or {}
    monitoring = evaluation.get("monitoring") or {}
    cells: list[object] = [
        evaluation["patient"],
        name,
        mrn,
        prescriber,
        evaluation["overall"],
        evaluation["recommendation"],
        anc.get("value_per_ul"),
        anc.get("comparator"),
        anc.get("category"),
        anc.get("collected"),
        monitoring.get("next_due"),
        monitoring.get("days_overdue"),
        ";".join(finding["code"] for finding in evaluation["findings"]),
        "true" if complete else "false",
    ]
    return [safe_cell(cell) for cell in cells]


class CsvWriter:
    """Writes the header (`columns`, COLUMNS unless told) once, then one row per patient, to
    `write`."""

    def __init__(self, write: Callable[[str], object], columns: tuple[str, ...] = COLUMNS) -> None:
        self._write = write
        self._line = _Line()
        self._csv = csv.writer(self._line, lineterminator="\r\n")
        self._emit(list(columns))

    def row(self, cells: list[str]) -> None:
        self._emit(cells)

    def _emit(self, cells: list[str]) -> None:
        self._csv.writerow(cells)
        self._write(self._line.take())


class _Line:
    """The file-like object csv.writer writes one row into."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        done = "".join(self._parts)
        self._parts.clear()
        return done
