"""Bulk Data export jobs of the sandbox: what was asked, the NDJSON files built, the job's state.

FHIR Bulk Data Access 2.0, "Export" (https://hl7.org/fhir/uv/bulkdata/export.html): a job is
kicked off, built in the background, polled, its files downloaded, and deleted by the client.
Files are built whole in memory: the sandbox's population is small.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.ehr.engine import Engine, EngineError

FhirJson = dict[str, Any]

# What an export holds when `_type` is not given: what a clozapine worklist reads.
DEFAULT_TYPES = (
    "Patient",
    "MedicationRequest",
    "Medication",
    "Observation",
    "Condition",
    "Practitioner",
    "PractitionerRole",
    "Organization",
)
# Types outside the Patient compartment: exported whole (they are shared, not per patient).
SHARED_TYPES = frozenset({"Medication", "Practitioner", "PractitionerRole", "Organization"})
EXPORTABLE_TYPES = frozenset(DEFAULT_TYPES) | {"Encounter", "Flag", "Task"}
PAGE_SIZE = 1000
IDS_PER_SEARCH = 50
JOB_LIFETIME_S = 3600


class ExportRequestError(ValueError):
    """The kick-off request is not one the sandbox can run; the message says why."""


class JobState(StrEnum):
    IN_PROGRESS = "in-progress"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """A kick-off: the Group (None for `Patient/$export`), the types, the type filters."""

    request_url: str
    group_id: str | None
    types: tuple[str, ...]
    type_filters: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


def export_request(
    request_url: str, group_id: str | None, params: list[tuple[str, str]]
) -> ExportRequest:
    """Parse `_type` and `_typeFilter` (other kick-off parameters are refused, not ignored)."""
    types: list[str] = []
    filters: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for name, value in params:
        if name == "_type":
            types += [item.strip() for item in value.split(",") if item.strip()]
        elif name == "_typeFilter":
            filters += [_type_filter(item) for item in value.split(",") if item.strip()]
        elif name == "_outputFormat":
            if value not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
                raise ExportRequestError(f"_outputFormat {value} is not supported (ndjson only)")
        else:
            raise ExportRequestError(f"the sandbox does not support the parameter {name}")
    unknown = sorted(set(types) - EXPORTABLE_TYPES)
    if unknown:
        raise ExportRequestError(f"_type names types the sandbox does not export: {unknown}")
    chosen = tuple(dict.fromkeys(types)) or DEFAULT_TYPES
    stray = sorted({kind for kind, _ in filters} - set(chosen))
    if stray:
        raise ExportRequestError(f"_typeFilter names types not exported: {stray}")
    return ExportRequest(request_url, group_id, chosen, tuple(filters))


def _type_filter(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    kind, _, query = text.strip().partition("?")
    if not query or kind not in EXPORTABLE_TYPES:
        raise ExportRequestError(f"_typeFilter {text!r} is not [type]?[search parameters]")
    return kind, tuple(parse_qsl(query, keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One NDJSON file of a finished job."""

    name: str
    resource_type: str
    content: bytes
    count: int


@dataclass(slots=True)
class ExportJob:
    """One export: who asked, what, how far it got, and its files once built."""

    job_id: str
    client_id: str
    request: ExportRequest
    polls_before_done: int = 1
    state: JobState = JobState.IN_PROGRESS
    progress: str = "queued"
    transaction_time: str = ""
    outputs: list[OutputFile] = field(default_factory=list)
    errors: list[OutputFile] = field(default_factory=list)
    failure: str | None = None
    created_at: float = field(default_factory=time.time)

    def file(self, name: str) -> OutputFile | None:
        return next((f for f in (*self.outputs, *self.errors) if f.name == name), None)


class JobStore:
    """The export jobs in force, behind one lock; each is built in its own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}

    def start(self, client_id: str, request: ExportRequest, engine: Engine) -> ExportJob:
        job = ExportJob(secrets.token_urlsafe(12), client_id, request)
        now = time.time()
        with self._lock:
            self._jobs = {
                k: j for k, j in self._jobs.items() if j.created_at > now - JOB_LIFETIME_S
            }
            self._jobs[job.job_id] = job
        threading.Thread(target=build, args=(job, engine), daemon=True).start()
        return job

    def get(self, job_id: str, client_id: str) -> ExportJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.client_id == client_id else None

    def delete(self, job_id: str, client_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.client_id != client_id:
                return False
            del self._jobs[job_id]
            return True


def build(job: ExportJob, engine: Engine) -> None:
    """Build every file of `job` from the engine; a failure fails the job with its reason."""
    job.transaction_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    problems: list[str] = []
    try:
        patients = _patients(job.request, engine, problems)
        for number, kind in enumerate(job.request.types, start=1):
            job.progress = f"exporting {kind} ({number} of {len(job.request.types)} types)"
            resources = _resources(kind, patients, job.request, engine, problems)
            if resources:
                content = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources)
                name = f"{number}.{kind}.ndjson"
                job.outputs.append(OutputFile(name, kind, content.encode(), len(resources)))
    except (EngineError, ValueError) as error:
        job.failure = str(error)
        job.state = JobState.FAILED
        return
    except Exception as error:  # any failure fails the job: a job must never hang
        job.failure = f"internal error ({type(error).__name__})"
        job.state = JobState.FAILED
        return
    if problems:
        outcomes = [_outcome(problem) for problem in problems]
        content = "".join(json.dumps(o) + "\n" for o in outcomes)
        job.errors.append(
            OutputFile("errors.ndjson", "OperationOutcome", content.encode(), len(outcomes))
        )
    job.progress = "complete"
    job.state = JobState.COMPLETE


def _outcome(problem: str) -> FhirJson:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": problem}],
    }


def _patients(request: ExportRequest, engine: Engine, problems: list[str]) -> list[str]:
    """The ids of the patients exported: the Group's members, or every Patient."""
    if request.group_id is None:
        return [str(p["id"]) for p in _search(engine, "Patient", [])]
    group = engine.read("Group", request.group_id)
    if group is None:
        raise ValueError(f"Group/{request.group_id} does not exist")
    ids = []
    for member in group.get("member", []):
        reference = str((member.get("entity") or {}).get("reference", ""))
        if reference.startswith("Patient/"):
            ids.append(reference.removeprefix("Patient/"))
        else:
            problems.append(f"Group member {reference or '(none)'} is not a Patient; skipped")
    return ids


def _resources(
    kind: str, patients: list[str], request: ExportRequest, engine: Engine, problems: list[str]
) -> list[FhirJson]:
    filters = [params for filtered, params in request.type_filters if filtered == kind] or [()]
    found: dict[str, FhirJson] = {}
    for extra in filters:
        if kind in SHARED_TYPES:
            batches: list[list[tuple[str, str]]] = [[]]
        else:
            name = "_id" if kind == "Patient" else "patient"
            batches = [
                [(name, ",".join(patients[i : i + IDS_PER_SEARCH]))]
                for i in range(0, len(patients), IDS_PER_SEARCH)
            ]
        for batch in batches:
            try:
                for resource in _search(engine, kind, [*batch, *extra]):
                    found[str(resource.get("id"))] = resource
            except _SearchRefused as refused:
                problems.append(f"{kind} search refused by the server: {refused}")
                break
    return list(found.values())


class _SearchRefused(Exception):
    """The engine answered a search with an error (a bad _typeFilter, say)."""


def _search(engine: Engine, kind: str, params: list[tuple[str, str]]) -> list[FhirJson]:
    """Every match of a search, page after page."""
    results: list[FhirJson] = []
    query: list[tuple[str, str]] | None = [*params, ("_count", str(PAGE_SIZE))]
    while query is not None:
        response = engine.request("GET", kind, params=query)
        if response.status_code != 200:
            raise _SearchRefused(f"HTTP {response.status_code}: {_said(response)}")
        bundle = response.json()
        results += [
            e["resource"]
            for e in bundle.get("entry", [])
            if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == kind
        ]
        following = [link for link in bundle.get("link", []) if link.get("relation") == "next"]
        query = parse_qsl(urlsplit(following[0]["url"]).query) if following else None
    return results


def _said(response: Any) -> str:
    """What an engine's error OperationOutcome says, in a few words."""
    try:
        issue = response.json()["issue"][0]
        return str(issue.get("diagnostics") or issue["details"]["text"])[:200]
    except (ValueError, KeyError, IndexError, TypeError):
        return "no OperationOutcome"
