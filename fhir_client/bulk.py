"""A FHIR Bulk Data export client: kick-off, status polling, resumable downloads, cancel.

FHIR Bulk Data Access 2.0 (https://hl7.org/fhir/uv/bulkdata/export.html). The job's status URL
and each finished file are kept in a state file in the download folder, so a run that stopped
(a crash, a timeout, a file that would not download) resumes where it stopped: the same job is
polled again, finished files are not fetched again, and a partial file goes on from its last
byte (`Range`). Knows FHIR, not SMART: the token comes from a `TokenSource`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import requests

from fhir_client.retry import retry_after_seconds

__all__ = ["BulkError", "BulkExport", "BulkSettings", "TokenSource"]

STATE_FILE = "fetch-state.json"
MANIFEST_FILE = "manifest.json"
CHUNK_BYTES = 1 << 16
_ISSUE_CODE = re.compile(r"[a-z][a-z-]{0,39}")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-")


class BulkError(Exception):
    """The export could not go on: the message says what failed and what to do next."""


class TokenSource(Protocol):
    """The access token for the export's requests."""

    def current(self) -> str:
        """A token believed valid (renewed first when it is about to expire)."""

    def renew(self) -> str:
        """A new token (the server answered 401 to the current one)."""


class Meter(Protocol):
    def advance(self, amount: int, items: int = 1) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BulkSettings:
    """How patient the client is: waits, retries and the longest an export may take."""

    timeout_s: float = 60.0  # one HTTP request
    max_wait_s: float = 6 * 3600.0  # the whole export, kick-off to manifest
    default_retry_after_s: float = 5.0
    max_retry_after_s: float = 300.0
    attempts: int = 3  # per file, and for transient status answers in a row
    retry_pause_s: float = 1.0  # before a file's second try; doubled before each next one


@dataclass(slots=True)
class _State:
    """What survives an interrupted run (the state file's JSON)."""

    request: str
    status_url: str | None = None
    manifest: dict[str, Any] | None = None
    done: list[str] = field(default_factory=list)


class BulkExport:
    """One export of `request` (a kick-off URL), downloaded into `folder`."""

    def __init__(
        self,
        request: str,
        folder: Path,
        session: requests.Session,
        tokens: TokenSource,
        *,
        say: Callable[[str], object],
        meter: Callable[[int | None, str, str], Meter],
        settings: BulkSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.folder = folder
        self._session = session
        self._tokens = tokens
        self._say = say
        self._meter = meter
        self._settings = settings or BulkSettings()
        self._sleep = sleep
        self._state = self._load(request)

    @property
    def resumed(self) -> bool:
        """Whether this run takes up a job an earlier run started."""
        return self._state.status_url is not None

    def wait(self) -> dict[str, Any]:
        """Kick off (or take up the earlier run's job) and wait for the manifest."""
        if self._state.status_url is None:
            self._kick_off()
        else:
            self._say("resuming the export an earlier run started")
        if self._state.manifest is None:
            self._state.manifest = self._wait()
            self._save()
        return self._state.manifest

    def download(self) -> Path:
        """Download every file of the manifest not downloaded yet; the local manifest's path."""
        if self._state.manifest is None:
            raise BulkError("no export manifest yet: wait for the export first")
        self._download_all(self._state.manifest)
        path = self.folder / MANIFEST_FILE
        path.write_text(json.dumps(_local_manifest(self._state.manifest)), encoding="utf-8")
        return path

    def finish(self) -> None:
        """Delete the job at the server (it may free its files) and forget the state."""
        if self._state.status_url is not None:
            try:
                self._request("DELETE", self._state.status_url)
            except (BulkError, requests.RequestException):
                self._say("the EHR did not confirm deleting the export job; it expires on its own")
        (self.folder / STATE_FILE).unlink(missing_ok=True)

    def forget(self) -> None:
        """Drop the state and the files: the next run starts a new export."""
        (self.folder / STATE_FILE).unlink(missing_ok=True)
        self.discard_files()

    def discard_files(self) -> None:
        """Remove the downloaded files (they hold patient data) once they have been used."""
        for path in self.folder.iterdir():
            if path.suffix in (".ndjson", ".part") or path.name == MANIFEST_FILE:
                path.unlink(missing_ok=True)

    # -- the steps --
    def _kick_off(self) -> None:
        self.discard_files()  # a new export: nothing of an older one may mix in
        response = self._request(
            "GET",
            self._state.request,
            headers={"Prefer": "respond-async", "Accept": "application/fhir+json"},
        )
        location = response.headers.get("Content-Location")
        if response.status_code == 429 or response.status_code >= 500:
            raise BulkError(
                f"the EHR could not start the export now (HTTP {response.status_code}"
                f"{_said(response)}); run the command again later"
            )
        if response.status_code != 202 or not location:
            raise BulkError(
                f"the EHR refused the export request (HTTP {response.status_code}"
                f"{_said(response)}); check the Group id and the client's system/ scopes"
            )
        self._state.status_url = location
        self._save()
        self._say("export started")

    def _wait(self) -> dict[str, Any]:
        assert self._state.status_url is not None  # noqa: S101  # kicked off or resumed
        began, transient, shown = time.monotonic(), 0, ""
        while True:
            response = self._request("GET", self._state.status_url, headers=_JSON)
            if response.status_code == 200:
                return _manifest(response)
            if response.status_code == 202:
                transient = 0
                # Shown as sent, shortened: a status line, not a place for patient data.
                progress = " ".join(response.headers.get("X-Progress", "in progress").split())[:80]
                if progress != shown:
                    self._say(f"export: {progress}")
                    shown = progress
            elif response.status_code in (429, 503):
                transient += 1
                if transient >= self._settings.attempts:
                    raise BulkError(
                        f"the EHR kept answering the export status with HTTP"
                        f" {response.status_code}; the export job is kept: run the command"
                        " again later to resume it"
                    )
                self._say(f"export status: HTTP {response.status_code}, waiting as asked")
            elif response.status_code == 404:
                self.forget()
                raise BulkError(
                    "the EHR no longer knows the export job (expired or deleted); run the"
                    " command again to start a new export"
                )
            else:
                self.forget()
                raise BulkError(
                    f"the EHR's export failed (HTTP {response.status_code}{_said(response)});"
                    " run the command again to start a new export, and if it fails again ask"
                    " the EHR team about the export"
                )
            if time.monotonic() - began > self._settings.max_wait_s:
                raise BulkError(
                    f"the export did not finish within {self._settings.max_wait_s / 3600:g} h;"
                    " the job is kept: run the command again to go on waiting for it"
                )
            self._sleep(self._retry_after(response))

    def _download_all(self, manifest: dict[str, Any]) -> None:
        items = [*manifest.get("output", []), *manifest.get("error", [])]
        total = sum(int(i.get("count", 0)) for i in items if isinstance(i.get("count"), int))
        meter = self._meter(total or None, "resources", "downloading")
        try:
            for item in items:
                url = item["url"]
                if url not in self._state.done:
                    self._download(url, meter, bool(manifest.get("requiresAccessToken")))
                    self._state.done.append(url)
                    self._save()
        finally:
            meter.finish()

    def _download(self, url: str, meter: Meter, with_token: bool) -> None:
        name = _file_name(url)
        target, partial = self.folder / name, self.folder / f"{name}.part"
        problem = ""
        for attempt in range(1, self._settings.attempts + 1):
            have = partial.stat().st_size if partial.exists() else 0
            headers = {
                "Accept": "application/fhir+ndjson",
                **({"Range": f"bytes={have}-"} if have else {}),
            }
            try:
                with self._request(
                    "GET", url, headers=headers, stream=True, token=with_token
                ) as answer:
                    if answer.status_code in (404, 410):
                        self.forget()
                        raise BulkError(
                            f"the EHR no longer has the export's file {name} (HTTP"
                            f" {answer.status_code}: expired or deleted); run the command again"
                            " to start a new export"
                        )
                    if answer.status_code not in (200, 206):
                        problem = f"HTTP {answer.status_code}{_said(answer)}"
                    elif answer.status_code == 206 and _range_start(answer) != have:
                        partial.unlink(missing_ok=True)  # resumed elsewhere: start it again
                        problem = "the EHR resumed it at another byte than asked"
                    else:
                        self._write(answer, partial, append=answer.status_code == 206, meter=meter)
                        os.replace(partial, target)
                        return
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                problem = "the connection broke before the file was whole"
            except requests.Timeout:
                problem = "the EHR stopped sending it"
            if attempt < self._settings.attempts:
                self._say(
                    f"file {name}: {problem}; trying again ({attempt} of {self._settings.attempts})"
                )
                pause = self._settings.retry_pause_s * 2.0 ** (attempt - 1)
                self._sleep(min(pause, self._settings.max_retry_after_s))
        raise BulkError(
            f"file {name} could not be downloaded ({problem}) after {self._settings.attempts}"
            f" tries; what was downloaded is kept in {self.folder}: run the command again to"
            " resume"
        )

    def _write(
        self, answer: requests.Response, partial: Path, *, append: bool, meter: Meter
    ) -> None:
        with partial.open("ab" if append else "wb") as out:
            for chunk in answer.iter_content(CHUNK_BYTES):
                out.write(chunk)
                lines = chunk.count(b"\n")
                meter.advance(lines, lines)

    # -- HTTP --
    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        token: bool = True,
    ) -> requests.Response:
        """One request with the token; a 401 gets one new token and one more try."""
        headers = dict(headers or {})
        for renewed in (False, True):
            if token:
                value = self._tokens.renew() if renewed else self._tokens.current()
                headers["Authorization"] = f"Bearer {value}"
            try:
                response = self._session.request(
                    method, url, headers=headers, stream=stream, timeout=self._settings.timeout_s
                )
            except requests.Timeout:
                if stream:
                    raise
                raise BulkError(
                    f"the EHR did not answer in {self._settings.timeout_s:g} s; run the command again to resume"
                ) from None
            except requests.ConnectionError:
                if stream:
                    raise
                raise BulkError(
                    "the EHR could not be reached; run the command again to resume"
                ) from None
            if response.status_code != 401 or not token or renewed:
                if response.status_code == 401:
                    raise BulkError(
                        "the EHR refused a newly issued access token (HTTP 401); check the"
                        " client's registration and scopes at the EHR"
                    )
                return response
            response.close()
            self._say("the access token expired; getting a new one")
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_after(self, response: requests.Response) -> float:
        asked = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
        seconds = self._settings.default_retry_after_s if asked is None else asked
        return min(seconds, self._settings.max_retry_after_s)

    # -- state --
    def _load(self, request: str) -> _State:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return _State(request)
        if not isinstance(data, dict) or data.get("request") != request:
            return _State(request)  # another export's state: start afresh
        return _State(
            request,
            data.get("status_url"),
            data.get("manifest"),
            [u for u in data.get("done", []) if isinstance(u, str)],
        )

    def _save(self) -> None:
        state = self._state
        document = {
            "request": state.request,
            "status_url": state.status_url,
            "manifest": state.manifest,
            "done": state.done,
        }
        temporary = self.folder / f".{STATE_FILE}.tmp"
        temporary.write_text(json.dumps(document), encoding="utf-8")
        os.replace(temporary, self.folder / STATE_FILE)


_JSON = {"Accept": "application/json"}


def _manifest(response: requests.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("output"), list):
        raise BulkError("the EHR's export manifest is not valid JSON with an output list")
    for item in [*document["output"], *document.get("error", [])]:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise BulkError("the EHR's export manifest lists a file without a url")
    return document


def _range_start(response: requests.Response) -> int | None:
    """The first byte a 206 answer carries (`Content-Range: bytes N-M/T`), or None."""
    found = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(found[1]) if found else None


def _local_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with each file's url replaced by its downloaded name beside it."""
    local = dict(manifest)
    for key in ("output", "error"):
        local[key] = [{**item, "url": _file_name(item["url"])} for item in manifest.get(key, [])]
    return local


def _file_name(url: str) -> str:
    """The file's local name: the last segment of its URL (what `smartapp worklist` reads)."""
    segment = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    name = Path(segment).name
    if not name or name.startswith(".") or name in (STATE_FILE, MANIFEST_FILE):
        raise BulkError(f"the EHR's manifest names an unusable file URL ({name or 'empty'})")
    return name if name.endswith(".ndjson") else f"{name}.ndjson"


def _said(response: requests.Response) -> str:
    """`, OperationOutcome <issue codes>` or ''. Never the server's free text: it goes to the
    scheduler's mail and logs, and diagnostics may quote patient data."""
    try:
        issues = response.json()["issue"]
        codes = [str(i["code"]) for i in issues if _ISSUE_CODE.fullmatch(str(i.get("code", "")))]
    except (ValueError, KeyError, TypeError):
        return ""
    return f", OperationOutcome {', '.join(codes[:3])}" if codes else ""
