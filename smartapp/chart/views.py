"""The prescriber's page: the launch's patient, evaluated now, with the evidence behind it.

The view reads and evaluates once (smartapp.ehr.request), builds the page model, the program
panel and the write-back panel from that one evaluation, then renders: templates get plain data
and do no I/O. A GET changes nothing at the EHR, in the registry or in the write-back ledger;
it records only the evaluation shown (in the launch session).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template

from clozapine import evaluation_to_json
from fhir_client import FhirError
from smartapp.chart.ehr_style import fetch_style
from smartapp.chart.page_model import page_model
from smartapp.ehr.evaluation import LaunchEvaluation
from smartapp.ehr.request import request_access, request_evaluation
from smartapp.errors import SmartAppError
from smartapp.registry.access import requester
from smartapp.registry.program_panel import PROGRAM_FINDINGS, ProgramPanel, build_panel
from smartapp.services import Services, current_services
from smartapp.web.audience import refuse_portal_user
from smartapp.web.csrf import csrf_token
from smartapp.web.security import frame_for
from smartapp.writeback.launch_writeback import LaunchWriteback
from smartapp.writeback.notice import Notice
from smartapp.writeback.panel import WritebackPanel, problem_panel
from smartapp.writeback.panel import build_panel as build_writeback_panel
from smartapp.writeback.views import launch_writeback

bp = Blueprint("chart", __name__)
LOGGER = logging.getLogger("smartapp.chart")


@bp.get("/chart")
def page() -> str:
    """Evaluate the launch's patient and show the status, schedule, findings and trend."""
    app = current_services()
    access = request_access(app)
    frame_for(access.issuer.frame_ancestors)
    refuse_portal_user(access.tokens.fhir_user)
    started = _start_writeback(app)  # its identifier search runs beside the patient's reads
    launch = request_evaluation(app)
    notice = Notice.from_json(access.session.notice)
    program = _program_panel(app, launch)
    writeback = _writeback_panel(started, launch, notice)
    app.sessions.record_evaluation(
        access.handle, evaluation_to_json(launch.evaluation), notice_shown=notice is not None
    )
    tokens = access.tokens
    model = page_model(
        launch.evaluation,
        launch.facts,
        launch.policy,
        launch.patient,
        read_notes=launch.read_notes,
        show_banner=tokens.need_patient_banner,
        zone=app.org.mapping_settings().timezone,
        fhir_user=tokens.fhir_user,
        shown_elsewhere=PROGRAM_FINDINGS if program is not None else frozenset(),
        completeness=launch.completeness,
    )
    return render_template(
        "chart.html",
        page=model,
        program=program,
        writeback=writeback,
        handle=access.handle,
        csrf=csrf_token(app.settings.secret_key, access.handle),
        smart_style=bool(tokens.smart_style_url),
    )


def _program_panel(app: Services, launch: LaunchEvaluation) -> ProgramPanel | None:
    evaluation = launch.evaluation
    return build_panel(app, requester(app), evaluation.as_of, launch.registry, evaluation)


def _start_writeback(app: Services) -> LaunchWriteback | SmartAppError:
    """This launch's write-back, its search confirming the ledger against the EHR started."""
    try:
        writeback = launch_writeback(app)
        writeback.start_chart_check()
    except SmartAppError as error:
        return error
    return writeback


def _writeback_panel(
    started: LaunchWriteback | SmartAppError, launch: LaunchEvaluation, notice: Notice | None
) -> WritebackPanel | None:
    """The write-back panel from the ledger, the EHR's capabilities and its answer on what the
    ledger shows in the chart; nothing is written."""
    problem = launch.completeness.writeback_problem()
    if problem is not None:  # nothing is offered, planned or synced from a part-read record
        return problem_panel(problem, notice)
    try:
        if isinstance(started, SmartAppError):
            raise started
        writeback = started
        app = current_services()
        targets = writeback.targets(launch.evaluation)
        planned = writeback.plan_lifecycle(launch.evaluation)
        decision = writeback.decision() if targets else None
        unwritten = app.settings.auto_writeback and bool(writeback.unwritten(targets))
        return build_writeback_panel(
            targets,
            writeback.entries(),
            decision,
            planned,
            notice=notice,
            unwritten_to_sync=unwritten,
            check=writeback.chart_check(),
        )
    except (FhirError, SmartAppError) as error:
        LOGGER.warning("writeback panel", extra={"fields": {"kind": type(error).__name__}})
        message = error.user_message if isinstance(error, FhirError) else str(error)
        return problem_panel(message, notice)


@bp.get("/ehr-style.css")
def ehr_style() -> Response:
    """The EHR's colours and fonts (smart_style_url) as CSS variables, if it sent a style."""
    app = current_services()
    access = request_access(app)
    url = access.tokens.smart_style_url
    css = fetch_style(url, access.session.iss, app.http_for(access.issuer)) if url else ""
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response
