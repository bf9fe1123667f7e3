"""`smartapp evaluate` as a user meets it: exit codes, one-line reasons, JSON, NDJSON and text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smartapp.commands.cli import main

AS_OF = "2026-11-25"


def _patient(pid: str) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{pid}", "resource": {"resourceType": "Patient", "id": pid}}


def _order(pid: str) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "MedicationRequest",
            "id": f"mr-{pid}",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{pid}"},
            "authoredOn": "2026-09-16",
            "medicationCodeableConcept": {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197535"}
                ]
            },
        }
    }


def _anc(pid: str, value: float, when: str) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "Observation",
            "id": f"obs-{pid}-{when}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": when,
            "valueQuantity": {
                "value": value,
                "unit": "10*3/uL",
                "code": "10*3/uL",
                "system": "http://unitsofmeasure.org",
            },
        }
    }


def bundle(*pids: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for pid in pids:
        entries += [_patient(pid), _order(pid), _anc(pid, 1.8, "2026-11-20T09:00:00Z")]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def run(
    tmp_path: Path, *args: str, document: Any = None, raw: str | None = None
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "input.json"
    path.write_text(raw if raw is not None else json.dumps(document or bundle("a")))
    argv = [a.replace("{in}", str(path)) for a in args]
    return subprocess.run(
        [sys.executable, "-m", "smartapp.commands.cli", "evaluate", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_one_patient_prints_one_json_object(tmp_path: Path) -> None:
    done = run(tmp_path, "{in}", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["patient"] == "Patient/a"
    assert output["monitoring"]["next_due"] == "2026-11-27"


def test_cli_several_patients_print_ndjson_in_bundle_order(tmp_path: Path) -> None:
    done = run(tmp_path, "{in}", "--as-of", AS_OF, document=bundle("b", "a", "c"))
    lines = done.stdout.splitlines()
    assert [json.loads(line)["patient"] for line in lines] == [
        "Patient/b",
        "Patient/a",
        "Patient/c",
    ]


def test_cli_reads_stdin(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smartapp.commands.cli", "evaluate", "-", "--as-of", AS_OF],
        input=json.dumps(bundle("a")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["patient"] == "Patient/a"


def test_cli_text_format_is_a_readable_summary(tmp_path: Path) -> None:
    done = run(tmp_path, "{in}", "--as-of", AS_OF, "--format", "text")
    assert done.returncode == 0
    assert "Latest ANC:      1800/uL on 2026-11-20 (normal)" in done.stdout
    assert "next ANC due 2026-11-27: CURRENT" in done.stdout
    assert "rems-eliminated" in done.stdout and "rule LABEL-REMS-ELIMINATED" in done.stdout


def test_cli_config_time_zone_and_command_line_wins(tmp_path: Path) -> None:
    config = tmp_path / "org.toml"
    config.write_text('[organisation]\nname = "Example"\ntimezone = "Pacific/Auckland"\n')
    late = bundle("a")
    late["entry"][2]["resource"]["effectiveDateTime"] = "2026-11-20T20:00:00Z"
    from_config = run(tmp_path, "{in}", "--as-of", AS_OF, "--config", str(config), document=late)
    assert json.loads(from_config.stdout)["anc"]["collected"] == "2026-11-21"
    overridden = run(
        tmp_path,
        "{in}",
        "--as-of",
        AS_OF,
        "--config",
        str(config),
        "--timezone",
        "UTC",
        document=late,
    )
    assert json.loads(overridden.stdout)["anc"]["collected"] == "2026-11-20"


def test_cli_keeps_its_default_zone_with_a_settings_file_naming_none(tmp_path: Path) -> None:
    """The app refuses to start without organisation.timezone; the command keeps its default."""
    config = tmp_path / "org.toml"
    config.write_text('[organisation]\nname = "Example"\n')
    late = bundle("a")
    late["entry"][2]["resource"]["effectiveDateTime"] = "2026-11-20T20:00:00-08:00"
    done = run(tmp_path, "{in}", "--as-of", AS_OF, "--config", str(config), document=late)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["anc"]["collected"] == "2026-11-20"  # the date as written


NOT_A_BUNDLE = {"resourceType": "Patient", "id": "x"}
NO_PATIENT = {"resourceType": "Bundle", "type": "collection", "entry": []}


@pytest.mark.parametrize(
    ("args", "document", "raw", "reason"),
    [
        (["/nonexistent/bundle.json"], None, None, "cannot read bundle"),
        (["{in}"], None, "{not json", "not valid JSON"),
        (["{in}"], NOT_A_BUNDLE, None, "Bundle"),
        (["{in}"], [1, 2], None, "Bundle"),
        (["{in}"], NO_PATIENT, None, "Patient"),
        (["{in}", "--as-of", "2015-10-11"], None, None, "before 2015-10-12"),
        (["{in}", "--as-of", "25/11/2026"], None, None, "YYYY-MM-DD"),
        (["{in}", "--as-of", "2026-02-30"], None, None, "calendar date"),
        (["{in}", "--as-of", "20261125"], None, None, "YYYY-MM-DD"),
        (["{in}", "--policy", "us-rems-2030"], None, None, "unknown policy"),
        (["{in}", "--timezone", "Mars/Olympus"], None, None, "unknown time zone"),
        (["{in}", "--timezone", ""], None, None, "--timezone is empty"),
        (["{in}", "--timezone", "  "], None, None, "--timezone is empty"),
        (["{in}", "--registry", "/nonexistent.json"], None, None, "cannot read registry"),
        (["{in}", "--config", "/nonexistent.toml"], None, None, "cannot read config"),
        (["{in}", "--format", "xml"], None, None, "invalid choice"),
        ([], None, None, "required"),
    ],
)
def test_cli_unusable_input_exits_2_with_one_line(
    tmp_path: Path, args: list[str], document: Any, raw: str | None, reason: str
) -> None:
    done = run(tmp_path, *args, document=document, raw=raw)
    assert done.returncode == 2
    assert done.stdout == ""
    assert reason in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "registry",
    [
        "[]",
        '{"prescribers": {}}',
        '{"prescribers": [{"certified": "2021-09-01"}]}',
        '{"patients": [{"patient": "Patient/a"}]}',
        '{"pharmacies": [{"organization": "Organization/x", "certified": "2021/10/01"}]}',
        '{"status_forms": [{"patient": "Patient/a", "submitted": "2021-13-01"}]}',
        '{"status_forms": ["Patient/a"]}',
        '{"prescribers": null}',
        '{"patients": null, "pharmacies": []}',
        '{"status_forms": [{"patient": "Patient/a", "submitted": 2021}]}',
        '{"patients": [{"patient": "Patient/a", "enrolled": ' + "2" * 5000 + "}]}",
        '{"patients": [{"patient": "Patient/a", "enrolled": "' + "2" * 500 + '"}]}',
        "not json",
    ],
)
def test_cli_malformed_registry_exits_2(tmp_path: Path, registry: str) -> None:
    path = tmp_path / "registry.json"
    path.write_text(registry)
    done = run(tmp_path, "{in}", "--as-of", "2021-12-01", "--registry", str(path))
    assert done.returncode == 2 and done.stdout == "" and "registry" in done.stderr


@pytest.mark.parametrize(
    "extra",
    [
        '"expires": "soon"',
        '"expires": null',
        '"expires": ' + "9" * 5000,
        '"status": "paused"',
        '"status": ["active"]',
        '"status": 3, "expires": {"a": 1}, "note": [1.5e999999]',
    ],
)
def test_cli_registry_fields_the_rems_rules_ignore_never_fail_it(
    tmp_path: Path, extra: str
) -> None:
    path = tmp_path / "registry.json"
    record = '{"patient": "Patient/pt-1", "enrolled": "2021-11-20", ' + extra + "}"
    certified = '{"practitioner": "Practitioner/dr-a", "certified": "2021-09-01", ' + extra + "}"
    path.write_text('{"patients": [' + record + '], "prescribers": [' + certified + "]}")
    done = run(tmp_path, "{in}", "--as-of", "2021-12-01", "--registry", str(path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["policy"] == "us-rems-2021"


@pytest.mark.parametrize(
    ("extra", "named"),
    [('"expires": "soon"', "patients[0]"), ('"status": "paused"', "patients[0]")],
)
def test_cli_registry_fields_an_organisation_program_reads_must_be_readable(
    tmp_path: Path, extra: str, named: str
) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text(
        '{"patients": [{"patient": "Patient/pt-1", "enrolled": "2026-01-20", ' + extra + "}]}"
    )
    config = tmp_path / "org.toml"
    config.write_text(
        "[program]\nid = 'x'\nname = 'X program'\ndocument = 'X policy'\nenrollment_required = true\n"
    )
    done = run(
        tmp_path, "{in}", "--as-of", AS_OF, "--config", str(config), "--registry", str(registry)
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "malformed" in done.stderr and named in done.stderr


@pytest.mark.parametrize(
    "config",
    [
        "organisation = 3",
        '[organisation]\ntimezone = "Nowhere/Land"',
        "[[codes.anc]]\nsystem = 1\ncode = 'x'",
        "[codes]\nanc = 'x'",
        "not = [toml",
        "[program]\nid = 3",
        "[program]\nid = 'x'\nname = 'X'\ndocument = 'D'\nanc_dispense_window_days = 0",
        "[program]\nid = 'x'\nname = 'X'\ndocument = 'D'\nrenewal = 1",
    ],
)
def test_cli_malformed_config_exits_2(tmp_path: Path, config: str) -> None:
    path = tmp_path / "org.toml"
    path.write_text(config)
    done = run(tmp_path, "{in}", "--as-of", AS_OF, "--config", str(path))
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr


def test_cli_evaluate_path_imports_neither_flask_nor_sqlalchemy(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle("a")))
    code = (
        "import sys; from smartapp.commands.cli import main; import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['evaluate', {str(path)!r}, '--as-of', '{AS_OF}']) == 0\n"
        "heavy = [m for m in ('flask', 'sqlalchemy', 'requests', 'authlib') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_cli_internal_error_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("smartapp.commands.evaluate.evaluate", broken)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle("a")))
    assert main(["evaluate", str(path), "--as-of", AS_OF]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "internal error (RuntimeError)" in captured.err


def test_cli_config_program_applies_on_top_of_the_label_policy(tmp_path: Path) -> None:
    config = tmp_path / "org.toml"
    config.write_text(
        "[program]\nid = 'example-health'\nname = 'Example program'\n"
        "document = 'Example Health Clozapine Monitoring Policy CP-17'\n"
        "anc_dispense_window_days = 3\n"
    )
    registry = tmp_path / "registry.json"
    registry.write_text('{"patients": []}')
    done = run(
        tmp_path, "{in}", "--as-of", AS_OF, "--config", str(config), "--registry", str(registry)
    )
    output = json.loads(done.stdout)
    assert output["policy"] == "us-label-2025+example-health"
    codes = {f["code"] for f in output["findings"]}
    assert {"patient-not-enrolled", "anc-too-old-to-dispense", "rems-eliminated"} <= codes


def _ndjson(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "population.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_ndjson_streams_one_bundle_per_line_in_order(tmp_path: Path) -> None:
    path = _ndjson(tmp_path, [json.dumps(bundle(p)) for p in ("c", "a", "b")])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "smartapp.commands.cli",
            "evaluate",
            "--ndjson",
            str(path),
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["patient"] for x in done.stdout.splitlines()] == [
        "Patient/c",
        "Patient/a",
        "Patient/b",
    ]
    assert done.stderr == ""  # no progress line when stderr is not a terminal


def _stream(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "smartapp.commands.cli",
            "evaluate",
            "--ndjson",
            str(path),
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_ndjson_reports_bad_lines_and_goes_on_exit_0_when_some_line_was_usable(
    tmp_path: Path,
) -> None:
    path = _ndjson(
        tmp_path,
        [json.dumps(bundle("a")), "{oops", json.dumps(NO_PATIENT), "", json.dumps(bundle("b"))],
    )
    with path.open("ab") as stream:
        stream.write(b'{"resourceType": "\xff"}\n' + json.dumps(bundle("c")).encode() + b"\n")
    done = _stream(path)
    assert done.returncode == 0
    assert [json.loads(x)["patient"] for x in done.stdout.splitlines()] == [
        "Patient/a",
        "Patient/b",
        "Patient/c",
    ]
    errors = done.stderr.splitlines()
    assert [e.split(":")[1] for e in errors] == [" line 2", " line 3", " line 6"]
    assert "not valid JSON" in errors[0] and "UTF-8" in errors[2]


def test_cli_ndjson_exits_2_only_when_no_line_was_usable(tmp_path: Path) -> None:
    done = _stream(_ndjson(tmp_path, ["{oops", json.dumps(NO_PATIENT), ""]))
    assert done.returncode == 2 and done.stdout == ""
    assert "line 1" in done.stderr and "line 2" in done.stderr


def test_cli_ndjson_line_with_over_long_numbers_is_evaluated(tmp_path: Path) -> None:
    document = json.dumps(bundle("a")).replace(
        '"resourceType": "Patient"', '"n": 1, "resourceType": "Patient"'
    )
    huge = document.replace('"n": 1', '"n": ' + "9" * 5000)
    done = _stream(_ndjson(tmp_path, [huge]))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["patient"] == "Patient/a"


def test_progress_bar_on_a_terminal_plain_lines_otherwise() -> None:
    import io

    from smartapp.commands.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(100, screen, enabled=True)
    progress.advance(50)
    progress.finish()
    assert "50%" in screen.getvalue() and "━" in screen.getvalue()  # rich's bar
    quiet = io.StringIO()
    short = Progress.for_file("-", quiet)
    short.advance(10)
    short.finish()
    assert quiet.getvalue() == ""  # a short run without a terminal says nothing
    log = io.StringIO()
    long_run = Progress(200, log, enabled=False, label="patients", plain_every_s=0.0)
    long_run.advance(100)
    long_run.finish()
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("smartapp: evaluating: 1 patients (50%)")
    assert lines[-1].endswith("done") and "\x1b" not in log.getvalue()
