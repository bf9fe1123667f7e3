"""Write-back routes: POST /writeback (the button), POST /writeback/sync (the page's own update),
GET /admin/audit (the trail of writes at the launch's EHR).

Both POSTs are CSRF-checked, work without JavaScript and without cookies (the handle travels in
the form), evaluate the patient once on the server (the form can only select among the current
findings; a record not read whole writes and retires nothing), record what they did in the
session row and answer 303 to the chart, which shows it; a reload of the chart never posts again.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from smartapp.ehr.evaluation import LaunchEvaluation
from smartapp.ehr.request import request_access, request_evaluation
from smartapp.errors import Forbidden
from smartapp.services import Services, current_services
from smartapp.web.audience import refuse_portal_user
from smartapp.web.csrf import check_csrf
from smartapp.web.security import frame_for
from smartapp.web.session import current_session
from smartapp.writeback.launch_writeback import LaunchWriteback
from smartapp.writeback.notice import SYNC, WRITE, Notice

bp = Blueprint("writeback", __name__)
AUDIT_PAGE_SIZE = 200


def launch_writeback(app: Services) -> LaunchWriteback:
    """Write-back for this request's launch session (never a patient's or caregiver's)."""
    request_id = g.get("request_id")
    access = request_access(app)
    refuse_portal_user(access.tokens.fhir_user)
    return LaunchWriteback(app, access, request_id if isinstance(request_id, str) else None)


@bp.post("/writeback")
def write() -> Response:
    """Write the current triggering findings (or those selected by `finding`) to the chart."""
    app = current_services()
    writeback = _checked(app)
    writeback.start_chart_check()  # beside the patient's reads: is what was written still there?
    launch = _complete_evaluation(app)
    selected = request.form.getlist("finding") or None
    # The lifecycle first: a finding that holds again reopens its resource instead of a new one.
    changes = writeback.apply_lifecycle(launch.evaluation)
    outcomes = writeback.write(launch, selected)
    return _back_to_chart(app, writeback, Notice(WRITE, tuple(outcomes), tuple(changes)))


@bp.post("/writeback/sync")
def sync() -> Response:
    """Bring the EHR's copies in line with the evaluation: retire or reopen what the app wrote
    and, where the organisation switched it on, write what is not yet in the chart."""
    app = current_services()
    writeback = _checked(app)
    if app.settings.auto_writeback:
        writeback.start_chart_check()
    launch = _complete_evaluation(app)
    changes = writeback.apply_lifecycle(launch.evaluation)
    outcomes = []
    if app.settings.auto_writeback:
        unwritten = writeback.unwritten(writeback.targets(launch.evaluation))
        codes = {target.finding.code for target in unwritten}
        if codes:
            outcomes = writeback.write(launch, codes, automatic=True)
    notice = Notice(SYNC, tuple(outcomes), tuple(changes), automatic=bool(outcomes))
    return _back_to_chart(app, writeback, notice)


def _complete_evaluation(app: Services) -> LaunchEvaluation:
    """This request's evaluation, read whole: a part-read record writes and retires nothing."""
    launch = request_evaluation(app)
    if not launch.completeness.complete:
        raise launch.completeness.write_refusal()
    return launch


def _checked(app: Services) -> LaunchWriteback:
    current = current_session(app.sessions)
    check_csrf(app.settings.secret_key, current.handle)
    writeback = launch_writeback(app)
    frame_for(writeback.access.issuer.frame_ancestors)
    return writeback


def _back_to_chart(app: Services, writeback: LaunchWriteback, notice: Notice) -> Response:
    handle = writeback.access.handle
    app.sessions.store_notice(handle, notice.to_json())
    return redirect(url_for("chart.page", h=handle), code=303)


@bp.get("/admin/audit")
def audit() -> str:
    """The audit trail, newest first: who wrote what to which EHR (administrators only)."""
    app = current_services()
    current = current_session(app.sessions)
    session = current.session
    frame_for(app.issuers.get(session.iss).frame_ancestors)
    refuse_portal_user(session.fhir_user)
    if not app.admins.includes(session.iss, session.fhir_user):
        raise Forbidden(
            "Only administrators may read the audit trail. Ask your program administrator to"
            " add your user at this EHR to SMARTAPP_REGISTRY_ADMINS."
        )
    target = request.args.get("target") or None
    return render_template(
        "audit.html",
        events=app.audit.events(session.iss, target=target, limit=AUDIT_PAGE_SIZE),
        target=target,
        handle=current.handle,
        smart_style=None,
    )
