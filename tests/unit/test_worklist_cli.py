"""`smartapp worklist` as a coordinator meets it, through the installed `smartapp` command."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_worklist import anc, order, patient, write

AS_OF = "2026-11-25"

MR = {"coding": [{"code": "MR"}]}


def _smartapp() -> str:
    found = shutil.which("smartapp", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the smartapp console script is not installed in the virtual environment")
    return found


def _worklist(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_smartapp(), "worklist", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    write(
        folder,
        "Patient.ndjson",
        [
            patient(
                "late",
                name=[{"family": "=Late", "given": ["Lee"]}],
                identifier=[{"type": MR, "value": "ENDED", "period": {"end": "2026-01-01"}}],
            ),
            patient(
                "fine",
                identifier=[{"type": MR, "value": "M0", "use": "old"}, {"type": MR, "value": "M1"}],
            ),
            patient("never"),
        ],
    )
    write(folder, "MedicationRequest.ndjson", [order("late"), order("fine"), order("never")])
    write(
        folder,
        "Observation.ndjson",
        [
            anc("late", 2.0, "2026-11-01"),
            anc("fine", 2.0, "2026-11-23"),
            '{"resourceType": "Observation", "subject": {"reference": "Patient/fine"}, "va',
        ],
    )
    return folder


def test_ndjson_is_one_evaluation_per_patient_most_urgent_first(export: Path) -> None:
    done = _worklist(str(export), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["patient"] for line in lines] == ["Patient/never", "Patient/late", "Patient/fine"]
    assert lines[0]["anc"] is None and lines[1]["monitoring"]["days_overdue"] > 0
    errors = done.stderr.splitlines()
    assert errors[0].startswith("smartapp: Observation.ndjson:3: not valid JSON")
    assert "smartapp: Patient/fine: data incomplete: Observation.ndjson:3" in errors[1]
    assert errors[-1].startswith("smartapp: worklist: 3 patients (action-required")
    assert "1 unreadable lines; 1 data-incomplete" in errors[-1]


def test_csv_has_the_columns_escaped_cells_and_data_complete(export: Path) -> None:
    done = _worklist(str(export), "--as-of", AS_OF, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [row["patient"] for row in rows] == ["Patient/never", "Patient/late", "Patient/fine"]
    assert rows[1]["name"] == "'=Late, Lee"
    assert rows[1]["mrn"] == ""  # its only MRN was retired before the as-of date
    assert rows[2]["mrn"] == "M1" and rows[2]["data_complete"] == "false"
    assert rows[0]["data_complete"] == "true" and rows[0]["anc_per_ul"] == ""


def test_text_summary_counts_by_status_and_names_who_to_call(export: Path) -> None:
    done = _worklist(str(export), "--as-of", AS_OF, "--format", "text", "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"Clozapine worklist on {AS_OF} (policy us-label-2025): 3 patients")
    assert "Data incomplete: 1 patients" in text and "Patient/fine" in text
    assert "Unreadable lines: 1" in text
    calls = text.split("Call first:\n")[1].splitlines()
    assert calls[0].startswith("   1. Patient/never") and "no ANC on file" in calls[0]
    assert calls[1].startswith("   2. Patient/late =Late, Lee")


def test_nothing_readable_exits_2_with_nothing_on_stdout(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder, "x.ndjson", ["{oops", "[1]"])
    done = _worklist(str(folder), "--as-of", AS_OF, "--format", "csv")
    assert done.returncode == 2 and done.stdout == ""
    assert "x.ndjson:1" in done.stderr and "x.ndjson:2" in done.stderr
    assert done.stderr.splitlines()[-1] == "smartapp: no line of the export could be read"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--as-of", "25/11/2026"], "is not a date written YYYY-MM-DD"),
        (["--timezone", "Mars/Olympus"], "Mars/Olympus"),
        (["--format", "xml"], "invalid choice"),
    ],
)
def test_unusable_options_exit_2_on_one_line(
    export: Path, arguments: list[str], message: str
) -> None:
    done = _worklist(str(export), *arguments)
    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr and len(done.stderr.splitlines()) == 1


def test_missing_export_exits_2(tmp_path: Path) -> None:
    done = _worklist(str(tmp_path / "nowhere"), "--as-of", AS_OF)
    assert done.returncode == 2 and "neither a folder nor a manifest" in done.stderr


AWAITING_WORDS = "Rules: The rules of policy us-label-2025 await pharmacist verification"
PAST_WORDS = "The rules of policy us-label-2025 are past their review date"


def test_text_says_once_under_its_heading_whether_the_rules_await_review(export: Path) -> None:
    done = _worklist(str(export), "--as-of", AS_OF, "--format", "text", "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith(AWAITING_WORDS)
    assert done.stdout.count("Rules:") == 1 and PAST_WORDS not in done.stdout
    late = _worklist(str(export), "--as-of", "2027-06-01", "--format", "text")
    assert late.stdout.count("Rules:") == 1
    assert late.stdout.splitlines()[1].startswith(AWAITING_WORDS) and PAST_WORDS in late.stdout


def test_csv_output_says_once_on_stderr_whether_the_rules_await_review(export: Path) -> None:
    done = _worklist(str(export), "--as-of", "2027-06-01", "--format", "csv")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "Rules:" in line]
    assert said == [line for line in said if line.startswith(f"smartapp: {AWAITING_WORDS}")]
    assert len(said) == 1 and PAST_WORDS in said[0]
    assert "Rules:" not in done.stdout  # the CSV keeps only its header and patient rows
    assert done.stderr.splitlines()[-1].startswith("smartapp: worklist: 3 patients")
