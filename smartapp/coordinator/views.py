"""The worklist's routes: the coordinator's sign-in without a patient, the page, the CSV.

The page and the CSV read the EHR's latest stored run from the database only: no FHIR call,
nothing written (`smartapp worklist fetch`, started by the scheduler, makes the runs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from smartapp.clock import now_utc
from smartapp.coordinator.access import WORKLIST_SCOPES, Coordinator, coordinator
from smartapp.coordinator.filters import (
    NO_PRESCRIBER,
    PAGE_SIZE,
    STATUS_CHOICES,
    Listing,
    read_listing,
)
from smartapp.coordinator.rows import INCOMPLETE_WORDS, STATUS_WORDS, worklist_row
from smartapp.coordinator.run_header import run_header
from smartapp.db.audit import AuditEvent
from smartapp.db.worklist_runs import SORTS, StoredRun
from smartapp.services import Services, current_services
from smartapp.web.launch_views import authorize, finish_sign_in, standalone_issuer
from smartapp.web.session import set_session_cookie
from smartapp.worklist.csv_format import COLUMNS, CsvWriter, csv_row, safe_cell

bp = Blueprint("coordinator", __name__, url_prefix="/worklist")
CSV_BATCH = 1000
SORT_WORDS = {
    "urgency": "Urgency",
    "status": "Status",
    "name": "Name",
    "prescriber": "Prescriber",
    "next_due": "Next due",
}


@bp.get("/standalone")
def standalone_launch() -> BaseResponse:
    """The coordinator signs in at the EHR directly (no chart, no patient)."""
    app = current_services()
    issuer = app.issuers.get(standalone_issuer())
    return authorize(
        issuer.iss,
        None,
        redirect_uri=app.settings.worklist_redirect_uri,
        scopes=WORKLIST_SCOPES,
    )


@bp.get("/callback")
def callback() -> BaseResponse:
    """The EHR returns the coordinator here: start the session, show the worklist."""
    signed_in = finish_sign_in(current_services().settings.worklist_redirect_uri, worklist=True)
    response = redirect(url_for("coordinator.page", h=signed_in.handle), code=303)
    set_session_cookie(response, signed_in.handle)
    return response


@bp.get("")
def page() -> str:
    """The latest run: its time, age and counts, and a page of its patients."""
    app = current_services()
    who = coordinator(app)
    listing = read_listing(request.args)
    run = app.worklist_runs.latest(who.iss)
    if run is None:
        return _render(app, who, listing, run=None)
    found = app.worklist_runs.query(
        who.iss, run.run_id, listing.query, offset=(listing.page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return _render(
        app,
        who,
        listing,
        run=run,
        header=run_header(
            run,
            app.worklist_runs.status_counts(who.iss, run.run_id),
            now_utc(),
            app.settings.worklist_max_age,
        ),
        rows=[worklist_row(p) for p in found.patients],
        total=found.total,
        pages=pages,
        first=(listing.page - 1) * PAGE_SIZE + 1 if found.patients else 0,
        last=(listing.page - 1) * PAGE_SIZE + len(found.patients),
        prescribers=app.worklist_runs.prescribers(who.iss, run.run_id),
    )


@bp.get("/worklist.csv")
def csv_download() -> Response:
    """Every patient the page's filters keep, in its order, as CSV. Nothing is changed; the
    export of patient data is recorded in the audit trail (who, which run, which filters, how
    many rows; no patient data)."""
    app = current_services()
    who = coordinator(app)
    listing = read_listing(request.args)
    run = app.worklist_runs.latest(who.iss)
    if run is not None:
        _audit_export(app, who, listing, run)
    response = Response(_csv_lines(app, who, listing, run), mimetype="text/csv")
    filename = f"worklist-{run.as_of.isoformat()}.csv" if run else "worklist.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _audit_export(app: Services, who: Coordinator, listing: Listing, run: StoredRun) -> None:
    query = listing.query
    rows = app.worklist_runs.query(who.iss, run.run_id, query, offset=0, limit=1).total
    app.audit.record(
        AuditEvent(
            actor=who.fhir_user,
            iss=who.iss,
            action="worklist-export",
            target=f"worklist run {run.run_id}",
            after={
                "rows": rows,
                "status": query.status,
                "due_by": query.due_by.isoformat() if query.due_by else None,
                "prescriber_filtered": query.prescriber is not None,
            },
        )
    )


def _csv_lines(
    app: Services, who: Coordinator, listing: Listing, run: StoredRun | None
) -> Iterator[str]:
    lines: list[str] = []
    writer = CsvWriter(lines.append, (*COLUMNS, "phone"))
    yield from _drain(lines)
    if run is None:
        return
    offset = 0
    while True:
        batch = app.worklist_runs.query(
            who.iss, run.run_id, listing.query, offset=offset, limit=CSV_BATCH
        ).patients
        for stored in batch:
            row = worklist_row(stored)
            evaluation = json.loads(stored.evaluation_json)
            cells = csv_row(evaluation, row.name, row.mrn, row.prescriber, row.complete)
            writer.row([*cells, safe_cell(row.phone)])
        yield from _drain(lines)
        if len(batch) < CSV_BATCH:
            return
        offset += CSV_BATCH


def _drain(lines: list[str]) -> Iterator[str]:
    done = list(lines)
    lines.clear()
    yield from done


def _render(app: Services, who: Coordinator, listing: Listing, **page: object) -> str:
    return render_template(
        "coordinator/worklist.html",
        listing=listing,
        handle=who.handle,
        smart_style=who.smart_style,
        statuses=[(s, STATUS_WORDS.get(s, "Data incomplete")) for s in STATUS_CHOICES],
        sorts=[(s, SORT_WORDS[s]) for s in SORTS],
        no_prescriber=NO_PRESCRIBER,
        incomplete_words=INCOMPLETE_WORDS,
        **page,
    )
