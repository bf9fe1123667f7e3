"""The worklist's parts: reading an export, grouping by patient, the order, CSV, line errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clozapine import policy_in_force
from fhir_mappings import MappingSettings
from smartapp.worklist import ExportError, WorklistRun, evaluate_export, export_files
from smartapp.worklist.csv_format import COLUMNS, CsvWriter, csv_row, safe_cell
from smartapp.worklist.lines import Kind, classify, names_in_unusable
from smartapp.worklist.ordering import sort_key, sorted_keys
from smartapp.worklist.run import WorklistRow, WorklistSummary

AS_OF = date(2026, 11, 25)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def patient(pid: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, **extra}


def order(pid: str, start: str = "2026-09-16", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"mr-{pid}",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": start,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "197535"}]},
        **extra,
    }


def anc(pid: str, value: float, when: str, n: int = 0) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{pid}-{n}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "10*3/uL", "code": "10*3/uL"},
    }


def write(folder: Path, name: str, lines: list[Any]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


class Collected:
    """What a run emitted and reported."""

    def __init__(self) -> None:
        self.rows: list[WorklistRow] = []
        self.reports: list[str] = []

    def emit(self, rows: Any) -> None:
        self.rows.extend(rows)

    @property
    def patients(self) -> list[str]:
        return [row.patient for row in self.rows]


class Silent:
    def advance(self, amount: int, items: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


def run(export: Path, tmp_path: Path) -> tuple[Collected, WorklistSummary]:
    collected = Collected()
    worklist = WorklistRun(MappingSettings(), AS_OF, policy_in_force(AS_OF), None)
    summary = evaluate_export(
        export_files(str(export)),
        worklist,
        collected.emit,
        collected.reports.append,
        lambda total, label, description: Silent(),
        spill_folder=tmp_path,
    )
    return collected, summary


# --- reading the export -------------------------------------------------------------------


def test_folder_reads_its_ndjson_files_by_name_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "b.ndjson", [patient("a")])
    write(folder, "a.ndjson", [patient("b")])
    write(folder, "notes.txt", ["not an export file"])
    assert [f.name for f in export_files(str(folder)).files] == ["a.ndjson", "b.ndjson"]


def test_manifest_names_files_by_path_file_url_or_downloaded_http_url(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    first = write(folder, "Patient.ndjson", [patient("a")])
    write(folder, "2.ndjson", [order("a")])
    write(folder, "errors.ndjson", [{"resourceType": "OperationOutcome"}])
    manifest = folder / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "transactionTime": "2026-11-25T06:00:00Z",
                "output": [
                    {"type": "Patient", "url": first.as_uri()},
                    {"type": "MedicationRequest", "url": "https://ehr.example.org/files/2.ndjson"},
                ],
                "error": [{"type": "OperationOutcome", "url": "errors.ndjson"}],
            }
        )
    )
    export = export_files(str(manifest))
    assert [f.name for f in export.files] == ["Patient.ndjson", "2.ndjson"]
    assert [f.name for f in export.error_files] == ["errors.ndjson"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{oops", "not valid JSON"),
        ('{"resourceType": "Bundle"}', "no `output` list"),
        ('{"output": [{"type": "Patient"}]}', "has no url"),
        ('{"output": [{"type": "Patient", "url": "missing.ndjson"}]}', "not downloaded"),
        ('{"output": [], "error": {}}', "`error` is not a list"),
    ],
)
def test_malformed_manifest_says_what_is_wrong(tmp_path: Path, document: str, message: str) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(document)
    with pytest.raises(ExportError, match=message):
        export_files(str(manifest))


def test_no_export_and_empty_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="neither a folder nor a manifest"):
        export_files(str(tmp_path / "nowhere"))
    with pytest.raises(ExportError, match=r"no \*\.ndjson"):
        export_files(str(tmp_path))


# --- what a line is -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "key"),
    [
        (json.dumps(patient("p1")), Kind.PATIENT, "Patient/p1"),
        ('{"resourceType": "Patient", "id": 42}', Kind.PATIENT, "Patient/42"),
        (json.dumps(order("p1")), Kind.OWNED, "Patient/p1"),
        (
            '{"resourceType": "Observation", "subject": {"reference": "https://ehr/fhir/Patient/p2/_history/3"}}',
            Kind.OWNED,
            "Patient/p2",
        ),
        (
            '{"resourceType": "Coverage", "patient": {"reference": "Patient/p3"}}',
            Kind.OWNED,
            "Patient/p3",
        ),
        ('{"resourceType": "Practitioner", "id": "dr"}', Kind.SHARED, "Practitioner/dr"),
        ('{"resourceType": "Medication", "id": "m"}', Kind.SHARED, "Medication/m"),
        ('{"resourceType": "Observation", "id": "o"}', Kind.IGNORED, ""),
        ('{"resourceType": "Observation", "subject": {"reference": "Group/g"}}', Kind.IGNORED, ""),
        (
            '{"resourceType": "Observation", "subject": {"reference": "urn:uuid:x"}}',
            Kind.IGNORED,
            "",
        ),
        ('{"resourceType": "OperationOutcome", "issue": []}', Kind.OUTCOME, ""),
        ('{"resourceType": "Patient"}', Kind.UNUSABLE, ""),
        ('{"id": "x"}', Kind.UNUSABLE, ""),
        ("[1, 2]", Kind.UNUSABLE, ""),
        ('{"resourceType": "Observation", "valu', Kind.UNUSABLE, ""),
        ('{"resourceType": "Patient", "id": "p4", "n": NaN}', Kind.PATIENT, "Patient/p4"),
    ],
)
def test_classify(line: str, kind: Kind, key: str) -> None:
    found = classify(line.encode())
    assert (found.kind, found.key) == (kind, key)


def test_unusable_line_still_names_its_patient_and_resource() -> None:
    cut = b'{"resourceType":"Observation","subject":{"reference":"Patient/p9"},"valueQu'
    assert names_in_unusable(cut) == {"Patient/p9"}
    role = b'{"resourceType": "PractitionerRole", "id": "r1", "practitioner": {'
    assert names_in_unusable(role) == {"PractitionerRole/r1"}


# --- grouping, references across files, line errors ---------------------------------------


def test_resources_group_by_patient_across_files_and_references_resolve(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "practitioner": {"reference": "Practitioner/dr-1"},
    }
    doctor = {"resourceType": "Practitioner", "id": "dr-1", "name": [{"family": "Osler"}]}
    medication = {
        "resourceType": "Medication",
        "id": "cloz",
        "code": {"coding": [{"system": RXNORM, "code": "197535"}]},
    }
    by_reference = order("a", requester={"reference": "PractitionerRole/role-1"})
    del by_reference["medicationCodeableConcept"]
    by_reference["medicationReference"] = {"reference": "Medication/cloz"}
    write(folder, "1.ndjson", [anc("b", 1.9, "2026-11-23", 1), patient("b"), by_reference])
    write(folder, "2.ndjson", [doctor, anc("a", 2.1, "2026-11-23"), order("b"), patient("a")])
    write(folder, "3.ndjson", [role, medication, {"resourceType": "Observation", "id": "loose"}])
    collected, summary = run(folder, tmp_path)
    evaluations = {row.patient: row.evaluation for row in collected.rows}
    assert set(evaluations) == {"Patient/a", "Patient/b"}
    assert all(e["on_clozapine"] for e in evaluations.values())  # the Medication resolved
    assert evaluations["Patient/a"]["anc"]["value_per_ul"] == 2100
    row_a = next(row for row in collected.rows if row.patient == "Patient/a")
    assert row_a.prescriber == "Osler (Practitioner/dr-1)"  # through the role
    assert summary.read.ignored == 1 and summary.read.unusable == 0
    assert summary.incomplete == 0 and collected.reports == []


def test_unreadable_lines_are_reported_with_file_and_line_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "Patient.ndjson", [patient("a"), patient("b")])
    write(
        folder,
        "Observation.ndjson",
        [
            anc("a", 2.0, "2026-11-23"),
            "",
            '{"resourceType":"Observation","subject":{"reference":"Patient/a"},"valueQuantity":{',
            "[1]",
            anc("b", 2.0, "2026-11-23"),
        ],
    )
    write(folder, "Order.ndjson", [order("a"), order("b")])
    collected, summary = run(folder, tmp_path)
    assert (
        collected.reports[1]
        == "Observation.ndjson:4: not a FHIR resource (not a JSON object); skipped"
    )
    assert collected.reports[0].startswith("Observation.ndjson:3: not valid JSON (")
    assert summary.read.unusable == 2
    assert summary.incomplete == 1 and summary.incomplete_listed == ["Patient/a"]
    assert any(
        r.startswith("Patient/a: data incomplete: Observation.ndjson:3") for r in collected.reports
    )
    complete = {row.patient: row.complete for row in collected.rows}
    assert complete == {"Patient/a": False, "Patient/b": True}
    problems = {row.patient: row.problems for row in collected.rows}
    assert problems["Patient/b"] == () and problems["Patient/a"][0].startswith(
        "Observation.ndjson:3"
    )
    assert summary.by_status["ok"] == 2  # still evaluated, never hidden: marked incomplete


def test_nothing_readable_is_an_export_error(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "x.ndjson", ["{oops", "[]"])
    with pytest.raises(ExportError, match="no line of the export could be read"):
        run(folder, tmp_path)


def test_resources_of_a_patient_missing_from_the_export_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "Patient.ndjson", [patient("a")])
    write(
        folder, "Observation.ndjson", [anc("a", 2.0, "2026-11-23"), anc("ghost", 0.4, "2026-11-23")]
    )
    collected, summary = run(folder, tmp_path)
    assert collected.patients == ["Patient/a"]
    assert summary.orphans == 1 and summary.orphans_listed == ["Patient/ghost"]
    assert any("Patient/ghost" in r and "no such Patient" in r for r in collected.reports)


def test_a_cut_patient_line_leaves_its_resources_reported_not_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "Patient.ndjson", [patient("a"), '{"resourceType": "Patient", "id": "b", "na'])
    write(folder, "Observation.ndjson", [anc("a", 2.0, "2026-11-23"), anc("b", 0.4, "2026-11-23")])
    collected, summary = run(folder, tmp_path)
    assert collected.patients == ["Patient/a"] and summary.orphans_listed == ["Patient/b"]
    assert any(
        r.startswith("Patient/b: 1 group(s) of resources name it, but a line naming it could not")
        and "Patient.ndjson:2" in r
        for r in collected.reports
    )


def test_an_unreadable_shared_resource_makes_its_patients_data_incomplete(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    named = order("a", requester={"reference": "PractitionerRole/r1"})
    write(folder, "Patient.ndjson", [patient("a"), patient("b")])
    write(folder, "MedicationRequest.ndjson", [named, order("b")])
    write(
        folder, "PractitionerRole.ndjson", ['{"resourceType": "PractitionerRole", "id": "r1", "pra']
    )
    collected, summary = run(folder, tmp_path)
    assert summary.incomplete_listed == ["Patient/a"]
    assert any(
        "PractitionerRole.ndjson:1: the PractitionerRole/r1 it names could not be read" in r
        for r in collected.reports
    )


def test_manifest_error_files_and_outcomes_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "Patient.ndjson", [patient("a"), {"resourceType": "OperationOutcome"}])
    write(folder, "err.ndjson", [{"resourceType": "OperationOutcome"}] * 2)
    (folder / "manifest.json").write_text(
        json.dumps({"output": [{"url": "Patient.ndjson"}], "error": [{"url": "err.ndjson"}]})
    )
    collected, summary = run(folder / "manifest.json", tmp_path)
    assert summary.export_errors == 3
    assert "err.ndjson: the server reported 2 problem(s) while exporting" in collected.reports


# --- the urgency order --------------------------------------------------------------------


def test_urgency_order_status_then_no_anc_then_overdue_then_due_then_reference(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    resources: list[Any] = []
    # overdue by different amounts (attention or action), due soon, not on clozapine, no ANC
    for pid, when in (
        ("late-10", "2026-11-08"),
        ("late-3", "2026-11-15"),
        ("late-3b", "2026-11-15"),
    ):
        resources += [patient(pid), order(pid), anc(pid, 2.5, when)]
    resources += [patient("due-27"), order("due-27"), anc("due-27", 2.5, "2026-11-20")]
    resources += [patient("due-30"), order("due-30"), anc("due-30", 2.5, "2026-11-23")]
    resources += [patient("none"), order("none")]
    resources += [patient("not-on")]
    write(folder, "all.ndjson", resources)
    collected, _ = run(folder, tmp_path)
    evaluations = [row.evaluation for row in collected.rows]
    keys = [sort_key(e) for e in evaluations]
    assert keys == sorted_keys(list(reversed(keys)))
    assert collected.patients[0] == "Patient/none"  # no ANC on file first
    assert collected.patients.index("Patient/late-10") < collected.patients.index("Patient/late-3")
    assert collected.patients.index("Patient/late-3") < collected.patients.index("Patient/late-3b")
    assert collected.patients.index("Patient/due-27") < collected.patients.index("Patient/due-30")
    assert collected.patients[-1] == "Patient/not-on"
    ranks = [k.rank for k in keys]
    assert ranks == sorted(ranks)


def test_sort_key_reads_the_contract_json() -> None:
    evaluation = {
        "patient": "Patient/x",
        "overall": "attention",
        "anc": None,
        "monitoring": {"next_due": None, "days_overdue": None},
    }
    key = sort_key(evaluation)
    assert (key.rank, key.no_anc, key.overdue, key.next_due) == (1, 1, 0, None)


# --- CSV ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Smith, Jo", "Smith, Jo"),
        (None, ""),
        (1500, "1500"),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_csv_row_columns_and_quoting() -> None:
    evaluation = {
        "patient": "Patient/x",
        "overall": "action-required",
        "recommendation": "interrupt",
        "anc": {
            "value_per_ul": 499,
            "comparator": "<",
            "category": "severe",
            "collected": "2026-11-20",
        },
        "monitoring": {"next_due": "2026-11-21", "days_overdue": 4},
        "findings": [{"code": "interrupt-recommended"}, {"code": "monitoring-overdue"}],
    }
    out: list[str] = []
    writer = CsvWriter(out.append)
    writer.row(csv_row(evaluation, '=cmd|"/c calc"!A1', "MRN, 1", 'Dr "Q"', complete=False))
    rows = list(csv.reader(io.StringIO("".join(out))))
    assert rows[0] == list(COLUMNS) and rows[0][-1] == "data_complete"
    assert dict(zip(rows[0], rows[1], strict=True)) == {
        "patient": "Patient/x",
        "name": '\'=cmd|"/c calc"!A1',
        "mrn": "MRN, 1",
        "prescriber": 'Dr "Q"',
        "overall": "action-required",
        "recommendation": "interrupt",
        "anc_per_ul": "499",
        "anc_comparator": "<",
        "anc_category": "severe",
        "anc_collected": "2026-11-20",
        "next_due": "2026-11-21",
        "days_overdue": "4",
        "findings": "interrupt-recommended;monitoring-overdue",
        "data_complete": "false",
    }
