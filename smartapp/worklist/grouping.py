"""Grouping: the export's lines into the spill by patient, then one Bundle per Patient.

First pass (`load_export`): each line is read lightly (`lines.classify`) and kept under its
patient, or as a shared resource; unusable lines are reported with file and line, and the
references they seem to name are kept so those patients are marked data-incomplete. Second pass
(`patient_bundles`): each Patient with its own resources, read exactly (`read_json`), and the
Medications, Practitioners, PractitionerRoles and Organizations its orders name, as a Bundle:
the Bundle `smartapp evaluate` would be given for that patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from clozapine.registry import normalise_reference
from fhir_mappings import JsonReadError, read_json
from fhir_mappings.fhir_json import FhirJson, obj, reference
from smartapp.worklist.export import Export, ExportFile, numbered_lines
from smartapp.worklist.lines import Kind, classify, names_in_unusable
from smartapp.worklist.meter import Meter, Report
from smartapp.worklist.spill import LINE_BREAK, SpillStore

# Consecutive lines of one patient kept as one row, up to this many (memory per row bounded).
CHUNK_LINES = 2000
# Shared resources decoded and kept at once (practitioners recur across many patients).
SHARED_CACHE = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(value: str) -> str:
    """Text from the export made safe for a terminal line (control characters replaced)."""
    return _CONTROL.sub("?", value)


@dataclass(slots=True)
class ReadCounts:
    """What the first pass met."""

    lines: int = 0
    unusable: int = 0
    ignored: int = 0
    outcomes: int = 0
    patients: int = 0


@dataclass(slots=True)
class PatientBundle:
    """One Patient's Bundle, and why its data is incomplete (empty when it is complete)."""

    patient: str
    bundle: dict[str, Any] | None  # None: its Patient could not be read
    problems: list[str] = field(default_factory=list)


class _Run:
    """Consecutive lines of one patient in one file, on their way to one chunk row."""

    __slots__ = ("first", "lines", "next", "owner")

    def __init__(self) -> None:
        self.owner = ""
        self.first = 0
        self.next = 0
        self.lines: list[bytes] = []

    def take(self, owner: str, number: int, line: bytes, store: SpillStore, file: int) -> None:
        if number == self.next and owner == self.owner and len(self.lines) < CHUNK_LINES:
            self.lines.append(line)
            self.next += 1
            return
        self.flush(store, file)
        self.owner, self.first, self.next = owner, number, number + 1
        self.lines = [line]

    def flush(self, store: SpillStore, file: int) -> None:
        if self.lines:
            store.add_chunk(self.owner, file, self.first, self.lines)
            self.lines = []
        self.owner = ""


def load_export(export: Export, store: SpillStore, report: Report, meter: Meter) -> ReadCounts:
    """Every line of every file into the store; unusable lines reported and counted."""
    counts = ReadCounts()
    owned = Kind.OWNED
    for index, file in enumerate(export.files):
        run = _Run()
        unmetered = lines = 0
        for number, line in numbered_lines(file):
            unmetered += len(line) + 1
            lines += 1
            if lines == 1000:  # the meter is told in batches: lines come by the million
                meter.advance(unmetered, lines)
                unmetered = lines = 0
            if not line or line.isspace():
                continue
            counts.lines += 1
            found = classify(line)
            kind = found.kind
            if kind is owned:
                run.take(found.key, number, line, store, index)
                continue
            run.flush(store, index)
            if kind is Kind.PATIENT:
                if store.add_patient(found.key, index, number, line):
                    counts.patients += 1
            elif kind is Kind.SHARED:
                store.add_shared(found.key, index, number, line)
            elif kind is Kind.OUTCOME:
                counts.outcomes += 1
            elif kind is Kind.IGNORED:
                counts.ignored += 1
            else:
                counts.unusable += 1
                report(f"{file.name}:{number}: {found.reason}; skipped")
                store.add_unusable(names_in_unusable(line), index, number)
        run.flush(store, index)
        meter.advance(unmetered, lines)
    store.loaded()
    return counts


def count_outcomes(files: tuple[ExportFile, ...], report: Report) -> int:
    """The OperationOutcomes in the manifest's `error` files, each file reported."""
    total = 0
    for file in files:
        found = sum(1 for _, line in numbered_lines(file) if line.strip())
        if found:
            report(f"{file.name}: the server reported {found} problem(s) while exporting")
        total += found
    return total


class _Shared:
    """Shared resources by "Type/id", decoded once and kept while the cache has room."""

    def __init__(
        self, store: SpillStore, export: Export, report: Report, counts: ReadCounts
    ) -> None:
        self._counts = counts
        self._store = store
        self._export = export
        self._report = report
        self._decoded: dict[str, FhirJson | None] = {}

    def get(self, key: str) -> FhirJson | None:
        if key in self._decoded:
            return self._decoded[key]
        found = self._store.shared(key)
        resource: FhirJson | None = None
        if found is not None:
            file, line, body = found
            try:
                decoded = read_json(body)
            except JsonReadError as exc:
                self._counts.unusable += 1
                self._report(
                    f"{self._export.files[file].name}:{line}: not valid JSON ({exc}); skipped"
                )
                self._store.add_unusable([key], file, line)
            else:
                resource = decoded if isinstance(decoded, dict) else None
        if len(self._decoded) >= SHARED_CACHE:
            self._decoded.clear()
        self._decoded[key] = resource
        return resource


def patient_bundles(
    store: SpillStore, export: Export, report: Report, counts: ReadCounts
) -> Iterator[PatientBundle]:
    """Each Patient's Bundle, by patient reference; unreadable lines reported and counted."""
    shared = _Shared(store, export, report, counts)
    names = [file.name for file in export.files]
    for key, file, line, body, chunks in store.patients_with_chunks():
        problems = [_unusable(names, f, n) for f, n in store.unusable_lines(key)]
        try:
            patient = read_json(body)
        except JsonReadError as exc:
            counts.unusable += 1
            report(f"{names[file]}:{line}: not valid JSON ({exc}); skipped")
            yield PatientBundle(
                key, None, [f"{_where(names, file, line)}: its Patient could not be read"]
            )
            continue
        entries: list[dict[str, Any]] = [{"resource": patient}]
        for chunk_file, first, lines in chunks:
            for offset, text in enumerate(lines.split(LINE_BREAK)):
                try:
                    resource = read_json(text)
                except JsonReadError as exc:
                    number = first + offset
                    counts.unusable += 1
                    report(f"{names[chunk_file]}:{number}: not valid JSON ({exc}); skipped")
                    problems.append(_unusable(names, chunk_file, number))
                    continue
                entries.append({"resource": resource})
        entries.extend(_shared_entries(entries, shared, store, names, problems))
        yield PatientBundle(
            key, {"resourceType": "Bundle", "type": "collection", "entry": entries}, problems
        )


def _shared_entries(
    entries: list[dict[str, Any]],
    shared: _Shared,
    store: SpillStore,
    names: list[str],
    problems: list[str],
) -> list[dict[str, Any]]:
    """The shared resources the patient's orders name (a role's practitioner too), once each."""
    wanted: list[str] = []
    for entry in entries:
        resource = entry["resource"]
        if resource.get("resourceType") == "MedicationRequest":
            wanted.extend(_order_references(resource))
    found: dict[str, FhirJson] = {}
    while wanted:
        key = wanted.pop(0)
        if key in found:
            continue
        resource = shared.get(key)
        if resource is None:
            problems.extend(
                f"{_where(names, f, n)}: the {key} it names could not be read"
                for f, n in store.unusable_lines(key)
            )
            continue
        found[key] = resource
        if resource.get("resourceType") == "PractitionerRole":
            wanted.extend(_names([resource.get("practitioner")]))
    return [{"resource": resource} for resource in found.values()]


def _order_references(order: FhirJson) -> list[str]:
    dispense = obj(order.get("dispenseRequest"))
    return _names(
        [order.get("medicationReference"), order.get("requester"), dispense.get("performer")]
    )


def _names(references: list[object]) -> list[str]:
    """The "Type/id" each Reference names across the export (contained and urn: ones excluded)."""
    named = []
    for value in references:
        written = reference(value)
        if written is not None and not written.startswith(("#", "urn:")):
            named.append(normalise_reference(written))
    return named


def _where(names: list[str], file: int, line: int) -> str:
    return f"{names[file]}:{line}"


def _unusable(names: list[str], file: int, line: int) -> str:
    return f"{_where(names, file, line)} names it but could not be read"
