"""The Bulk Data client: polling, resumable downloads and what a stopped run leaves behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
import time_machine

from fhir_client.bulk import STATE_FILE, BulkError, BulkExport, BulkSettings

BASE = "https://ehr.example.org/fhir"
KICK_OFF = f"{BASE}/Group/g1/$export?_type=Patient"
STATUS = f"{BASE}/$export-status/job1"
FILE = f"{BASE}/files/1.Patient.ndjson"
CONTENT = b'{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","id":"b"}\n'


class _Tokens:
    def __init__(self) -> None:
        self.renewed = 0

    def current(self) -> str:
        return f"token-{self.renewed}"

    def renew(self) -> str:
        self.renewed += 1
        return self.current()


class _Meter:
    def advance(self, amount: int, items: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


def _export(folder, said: list[str], **settings) -> BulkExport:
    return BulkExport(
        KICK_OFF,
        folder,
        requests.Session(),
        _Tokens(),
        say=said.append,
        meter=lambda *_: _Meter(),
        settings=BulkSettings(**settings),
        sleep=lambda _s: None,
    )


def _manifest(*urls: str, token: bool = False) -> dict[str, Any]:
    files = [{"type": "Patient", "url": u, "count": 2} for u in urls]
    return {"output": files, "error": [], "requiresAccessToken": token}


@responses.activate
def test_bulk_polls_as_told_then_downloads_and_writes_a_local_manifest(tmp_path):
    responses.get(KICK_OFF, status=202, headers={"Content-Location": STATUS})
    responses.get(STATUS, status=202, headers={"X-Progress": "50%", "Retry-After": "3"})
    responses.get(STATUS, status=200, json=_manifest(FILE, token=True))
    responses.get(FILE, body=CONTENT)
    said: list[str] = []
    export = _export(tmp_path, said)
    export.wait()
    path = export.download()
    assert (tmp_path / "1.Patient.ndjson").read_bytes() == CONTENT
    assert json.loads(path.read_text())["output"][0]["url"] == "1.Patient.ndjson"
    assert "export: 50%" in said
    assert responses.calls[0].request.headers["Prefer"] == "respond-async"
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer token-0"


@responses.activate
def test_bulk_partial_file_goes_on_from_its_last_byte(tmp_path):
    (tmp_path / STATE_FILE).write_text(
        json.dumps({"request": KICK_OFF, "status_url": STATUS, "manifest": _manifest(FILE)})
    )
    (tmp_path / "1.Patient.ndjson.part").write_bytes(CONTENT[:10])
    responses.get(
        FILE,
        status=206,
        body=CONTENT[10:],
        headers={"Content-Range": f"bytes 10-{len(CONTENT) - 1}/{len(CONTENT)}"},
    )
    said: list[str] = []
    export = _export(tmp_path, said)
    assert export.resumed
    export.wait()
    export.download()
    assert responses.calls[0].request.headers["Range"] == "bytes=10-"
    assert "Authorization" not in responses.calls[0].request.headers  # not requiresAccessToken
    assert (tmp_path / "1.Patient.ndjson").read_bytes() == CONTENT
    assert json.loads((tmp_path / STATE_FILE).read_text())["done"] == [FILE]


def test_bulk_state_of_another_export_is_not_taken_up(tmp_path):
    (tmp_path / STATE_FILE).write_text(json.dumps({"request": "other", "status_url": STATUS}))
    assert not _export(tmp_path, []).resumed


@responses.activate
def test_bulk_status_the_ehr_forgot_starts_afresh_next_time(tmp_path):
    (tmp_path / STATE_FILE).write_text(json.dumps({"request": KICK_OFF, "status_url": STATUS}))
    responses.get(STATUS, status=404)
    with pytest.raises(BulkError, match="no longer knows the export job"):
        _export(tmp_path, []).wait()
    assert not (tmp_path / STATE_FILE).exists()


@responses.activate
def test_bulk_keeps_the_job_after_repeated_throttling_or_a_long_wait(tmp_path):
    responses.get(KICK_OFF, status=202, headers={"Content-Location": STATUS})
    for _ in range(3):
        responses.get(STATUS, status=429, headers={"Retry-After": "1"})
    with pytest.raises(BulkError, match="kept answering the export status with HTTP 429"):
        _export(tmp_path, []).wait()
    assert json.loads((tmp_path / STATE_FILE).read_text())["status_url"] == STATUS
    responses.get(STATUS, status=202)
    with pytest.raises(BulkError, match=r"did not finish within 0 h.*go on waiting"):
        _export(tmp_path, [], max_wait_s=0.0).wait()
    assert (tmp_path / STATE_FILE).exists()


@responses.activate
def test_bulk_refused_kick_off_says_what_to_check(tmp_path):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"code": "forbidden", "diagnostics": "Patient Jane"}],
    }
    responses.get(KICK_OFF, status=403, json=outcome)
    with pytest.raises(BulkError) as raised:
        _export(tmp_path, []).wait()
    assert "HTTP 403, OperationOutcome forbidden" in str(raised.value)
    assert "Jane" not in str(raised.value)  # the EHR's free text never goes to the log


@responses.activate
def test_bulk_manifest_naming_an_unusable_file_is_refused(tmp_path):
    responses.get(KICK_OFF, status=202, headers={"Content-Location": STATUS})
    responses.get(STATUS, status=200, json=_manifest(f"{BASE}/files/manifest.json"))
    export = _export(tmp_path, [])
    export.wait()
    with pytest.raises(BulkError, match="unusable file URL"):
        export.download()


@responses.activate
def test_bulk_file_the_ehr_no_longer_has_starts_afresh_next_time(tmp_path):
    (tmp_path / STATE_FILE).write_text(
        json.dumps({"request": KICK_OFF, "status_url": STATUS, "manifest": _manifest(FILE)})
    )
    (tmp_path / "1.Patient.ndjson.part").write_bytes(CONTENT[:10])
    responses.get(FILE, status=404)
    export = _export(tmp_path, [])
    export.wait()
    with pytest.raises(BulkError, match=r"no longer has the export's file 1\.Patient\.ndjson"):
        export.download()
    assert list(tmp_path.iterdir()) == []  # neither the state nor a stale part is kept


@responses.activate
def test_bulk_partial_file_resumed_at_another_byte_is_fetched_again_whole(tmp_path):
    (tmp_path / STATE_FILE).write_text(
        json.dumps({"request": KICK_OFF, "status_url": STATUS, "manifest": _manifest(FILE)})
    )
    (tmp_path / "1.Patient.ndjson.part").write_bytes(CONTENT[:10])
    wrong = {"Content-Range": f"bytes 5-{len(CONTENT) - 1}/{len(CONTENT)}"}
    responses.get(FILE, status=206, body=CONTENT[5:], headers=wrong)
    responses.get(FILE, status=200, body=CONTENT)
    said: list[str] = []
    export = _export(tmp_path, said)
    export.wait()
    export.download()
    assert (tmp_path / "1.Patient.ndjson").read_bytes() == CONTENT
    assert "Range" not in responses.calls[1].request.headers
    assert any("resumed it at another byte" in line for line in said)


@responses.activate
def test_bulk_kick_off_the_ehr_cannot_take_now_says_to_try_later(tmp_path):
    responses.get(KICK_OFF, status=503, headers={"Retry-After": "60"})
    with pytest.raises(BulkError, match=r"could not start the export now \(HTTP 503\)"):
        _export(tmp_path, []).wait()
    assert not (tmp_path / STATE_FILE).exists()


@pytest.mark.parametrize(
    ("retry_after", "waited_s"),
    [
        ("3", 3.0),
        ("Thu, 03 Dec 2026 12:00:30 GMT", 30.0),  # an HTTP-date (RFC 9110 10.2.3)
        ("nan", 5.0),  # unreadable: the default wait
        ("soon", 5.0),
        ("86400", 300.0),  # capped
    ],
)
@responses.activate
def test_bulk_poll_waits_as_retry_after_says(tmp_path, retry_after, waited_s):
    responses.get(KICK_OFF, status=202, headers={"Content-Location": STATUS})
    responses.get(STATUS, status=202, headers={"Retry-After": retry_after})
    responses.get(STATUS, status=200, json=_manifest(FILE))
    slept: list[float] = []
    export = BulkExport(
        KICK_OFF,
        tmp_path,
        requests.Session(),
        _Tokens(),
        say=lambda _line: None,
        meter=lambda *_: _Meter(),
        settings=BulkSettings(),
        sleep=slept.append,
    )
    with time_machine.travel(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), tick=False):
        export.wait()
    assert slept == [waited_s]
