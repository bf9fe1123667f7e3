"""One scheduled worklist run: Backend Services token, Bulk Data export, evaluation, stored run.

Started by `smartapp worklist fetch` from the organisation's scheduler, never inside a web
request. The export is the issuer's Group (`Group/[id]/$export`) or, without one, every patient
(`Patient/$export`), with `_type` for what the evaluation reads; the files go to a folder of
their own per EHR, where an interrupted run resumes (fhir_client.bulk), and are removed once the
run is stored.
"""

from __future__ import annotations

import fcntl
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests

from fhir_client.bulk import BulkError, BulkExport, BulkSettings
from fhir_mappings import LocalCode
from launch import BackendToken, IssuerConfig, KeyRing, SmartConfiguration, backend_token
from smartapp.db import StoredPatient, StoredRun, WorklistRuns
from smartapp.ehr.patient_reads import lab_code_query
from smartapp.worklist.export import ExportError, export_files
from smartapp.worklist.meter import MeterFactory, Report
from smartapp.worklist.run import WorklistRow, WorklistRun, WorklistSummary, evaluate_export

# What the evaluation reads (population.md, "Export"), as the offline worklist reads it.
EXPORT_TYPES = (
    "Patient",
    "MedicationRequest",
    "Medication",
    "Observation",
    "Condition",
    "Practitioner",
    "PractitionerRole",
    "Organization",  # the dispensing pharmacy an organisation program checks
)
LOCK_FILE = "fetch.lock"


class FetchBusy(BulkError):
    """Another fetch for the same EHR is running."""


@dataclass(frozen=True, slots=True)
class FetchTimes:
    """Seconds spent waiting for the export, downloading it and evaluating it."""

    export_s: float
    download_s: float
    evaluation_s: float


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The stored run, its counts and where the time went."""

    run: StoredRun
    summary: WorklistSummary
    times: FetchTimes
    resumed: bool


class BackendTokens:
    """The Backend Services token of one EHR, renewed before it expires or when refused."""

    def __init__(
        self,
        issuer: IssuerConfig,
        smart_config: SmartConfiguration,
        http: requests.Session,
        key_ring: KeyRing,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._issuer = issuer
        self._smart_config = smart_config
        self._http = http
        self._key_ring = key_ring
        self._clock = clock
        self._token: BackendToken | None = None

    def current(self) -> str:
        if self._token is None or self._token.expired(self._clock()):
            return self.renew()
        return self._token.access_token

    def renew(self) -> str:
        self._token = backend_token(
            self._issuer,
            self._smart_config,
            http=self._http,
            now=self._clock(),
            key_ring=self._key_ring,
        )
        return self._token.access_token

    def scopes(self) -> tuple[str, ...]:
        """The scopes the EHR granted with the current token (a token is fetched if none)."""
        self.current()
        return self._token.scopes if self._token is not None else ()


def export_url(
    issuer: IssuerConfig, group: str | None, local_anc_codes: Iterable[LocalCode] = ()
) -> str:
    """The kick-off URL: the Group's export, or every patient's. With the issuer's
    `export_type_filter`, `_typeFilter` narrows Observations to the lab codes the chart page
    reads (the same `code` search); orders and conditions are never narrowed, since an order
    or a BEN diagnosis a code filter missed would change the evaluation."""
    path = f"Group/{quote(group, safe='')}/$export" if group else "Patient/$export"
    params = {"_type": ",".join(EXPORT_TYPES)}
    if issuer.export_type_filter:
        # Bulk Data: comma-separated search queries, each URL-encoded (its commas too).
        params["_typeFilter"] = "Observation?" + urlencode(
            {"code": lab_code_query(local_anc_codes)}
        )
    return f"{issuer.iss}/{path}?{urlencode(params)}"


def download_folder(instance_dir: Path, issuer: IssuerConfig) -> Path:
    """Where one EHR's export is downloaded (one folder per issuer, owner-only)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", issuer.iss.split("://", 1)[-1]).strip("-")
    return instance_dir / "worklist" / slug[:80]


@contextmanager
def only_fetch(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the whole run: two fetches would mix their files."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchBusy(
                f"another worklist fetch for this EHR is running (it holds {folder / LOCK_FILE});"
                " let it finish"
            ) from None
        yield


def fetch_run(
    issuer: IssuerConfig,
    group: str | None,
    exporter: BulkExport,
    run: WorklistRun,
    runs: WorklistRuns,
    *,
    report: Report,
    meter: MeterFactory,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FetchResult:
    """Export, download, evaluate and store one run; BulkError says what failed."""
    started_at = clock()
    began = time.perf_counter()
    resumed = exporter.resumed
    manifest = exporter.wait()
    exported = time.perf_counter()
    manifest_path = exporter.download()
    downloaded = time.perf_counter()
    summary = WorklistSummary(run.as_of, run.policy.policy_id)
    stored: list[StoredRun] = []

    def store(rows: Iterator[WorklistRow]) -> None:
        record = StoredRun(
            run_id=str(uuid.uuid4()),
            iss=issuer.iss,
            group_id=group,
            started_at=started_at,
            finished_at=clock(),
            export_time=_text(manifest.get("transactionTime")),
            as_of=run.as_of,
            policy=summary.policy,
            patients=summary.evaluated,
            counts=run_counts(summary),
        )
        runs.save(record, (stored_patient(row) for row in rows))
        stored.append(record)

    try:
        export = export_files(str(manifest_path))
        evaluate_export(export, run, store, report, meter, summary=summary)
    except ExportError as error:
        exporter.finish()
        exporter.forget()
        raise BulkError(
            f"the export could not be evaluated ({error}); check that the Group"
            f" ({group or 'none: every patient'}) holds the clinic's patients and that the"
            " client may read their records, then run the command again"
        ) from None
    evaluated = time.perf_counter()
    exporter.finish()
    exporter.discard_files()
    times = FetchTimes(exported - began, downloaded - exported, evaluated - downloaded)
    return FetchResult(stored[0], summary, times, resumed)


def run_counts(summary: WorklistSummary) -> dict[str, Any]:
    """The counts stored with a run (and shown beside it)."""
    return {
        "by_status": dict(summary.by_status),
        "evaluated": summary.evaluated,
        "incomplete": summary.incomplete,
        "not_evaluated": summary.not_evaluated,
        "orphans": summary.orphans,
        "export_errors": summary.export_errors,
        "lines": summary.read.lines,
        "unusable_lines": summary.read.unusable,
    }


def stored_patient(row: WorklistRow) -> StoredPatient:
    """A worklist row as stored: its evaluation JSON and the cells the page sorts by."""
    evaluation = json.loads(row.evaluation_json)
    monitoring = evaluation.get("monitoring") or {}
    due = monitoring.get("next_due")
    overdue = monitoring.get("days_overdue")
    return StoredPatient(
        patient=row.patient,
        overall=str(evaluation["overall"]),
        name=row.name,
        mrn=row.mrn,
        phone=row.phone,
        prescriber=row.prescriber,
        next_due=date.fromisoformat(due) if isinstance(due, str) else None,
        days_overdue=overdue if isinstance(overdue, int) else None,
        data_complete=row.complete,
        evaluation_json=row.evaluation_json,
        problems=row.problems,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def bulk_settings(max_wait_hours: float | None) -> BulkSettings:
    """The export client's settings, with the longest wait the operator allows."""
    if max_wait_hours is None:
        return BulkSettings()
    return BulkSettings(max_wait_s=max_wait_hours * 3600.0)
