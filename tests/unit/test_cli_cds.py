"""`smartapp cds HOOK_REQUEST.json`: the service's answer offline, and exit 2 for what it cannot use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartapp.commands.cli import main
from tests.cds_requests import clozapine_draft, hook_request
from tests.unit.test_cds_cards import CURRENT, OVERDUE, PATIENT, bundle


def write(tmp_path: Path, body: object) -> str:
    path = tmp_path / "request.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return str(path)


def test_cli_cds_prints_the_card_for_a_request_with_prefetch(tmp_path, capsys) -> None:
    request = write(tmp_path, hook_request(bundle(*OVERDUE)))
    assert main(["cds", request, "--as-of", "2026-11-25"]) == 0
    [card] = json.loads(capsys.readouterr().out)["cards"]
    assert card["indicator"] == "critical"
    assert card["summary"] == "Draw an ANC now: clozapine ANC monitoring is overdue"


def test_cli_cds_as_of_decides_the_answer(tmp_path, capsys) -> None:
    request = write(tmp_path, hook_request(bundle(*CURRENT)))
    assert main(["cds", request, "--as-of", "2026-11-25"]) == 0
    assert json.loads(capsys.readouterr().out) == {"cards": []}
    assert main(["cds", request, "--as-of", "2026-12-20"]) == 0
    assert json.loads(capsys.readouterr().out)["cards"][0]["indicator"] == "critical"


def test_cli_cds_answers_order_sign_with_the_draft(tmp_path, capsys) -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-12-01")
    request = write(tmp_path, hook_request(bundle(), "order-sign", drafts=[draft]))
    assert main(["cds", request, "--as-of", "2026-11-25"]) == 0
    [card] = json.loads(capsys.readouterr().out)["cards"]
    assert card["summary"] == "Draw a baseline ANC before starting clozapine"


def test_cli_cds_reads_the_settings_file_and_the_registry(tmp_path, capsys) -> None:
    config = tmp_path / "org.toml"
    config.write_text(
        '[organisation]\ntimezone = "America/Chicago"\n\n[program]\nid = "p"\nname = "P"\n'
        'document = "Doc"\nenrollment_required = true\n'
    )
    registry = tmp_path / "registry.json"
    request = write(tmp_path, hook_request(bundle(*CURRENT)))
    args = [
        "cds",
        request,
        "--as-of",
        "2026-11-25",
        "--config",
        str(config),
        "--registry",
        str(registry),
    ]
    registry.write_text(json.dumps({"patients": []}))
    assert main(args) == 0
    [card] = json.loads(capsys.readouterr().out)["cards"]
    assert card["summary"].startswith("Enroll the patient")
    assert "under policy us-label-2025+p" in card["detail"]
    enrolled = {"patients": [{"patient": f"Patient/{PATIENT}", "enrolled": "2026-06-01"}]}
    registry.write_text(json.dumps(enrolled))
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == {"cards": []}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ({"hook": "encounter-start"}, "unknown hook 'encounter-start'"),
        (hook_request(None, patient_id=PATIENT, prefetch={}), "prefetch patient, medications"),
        ({"hook": "patient-view", "hookInstance": "x"}, "the request has no context"),
    ],
)
def test_cli_cds_exits_2_with_one_line_for_an_unusable_request(
    tmp_path, capsys, body, problem
) -> None:
    assert main(["cds", write(tmp_path, body), "--as-of", "2026-11-25"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert problem in captured.err and captured.err.count("\n") == 1


def test_cli_cds_imports_neither_flask_nor_the_database_nor_a_jwt_library(tmp_path) -> None:
    import subprocess
    import sys

    request = write(tmp_path, hook_request(bundle(*OVERDUE)))
    code = (
        "import sys; from smartapp.commands.cli import main; import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['cds', {request!r}, '--as-of', '2026-11-25']) == 0\n"
        "heavy = [m for m in ('flask', 'sqlalchemy', 'alembic', 'joserfc', 'authlib')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
