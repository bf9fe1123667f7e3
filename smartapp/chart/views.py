"""The prescriber's page: the launch's patient, evaluated now, with the evidence behind it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from clozapine import evaluation_to_json
from smartapp.chart.ehr_style import fetch_style
from smartapp.chart.page_model import page_model
from smartapp.ehr.evaluation import evaluate_launch
from smartapp.ehr.request import request_access
from smartapp.services import Services
from smartapp.web.csrf import csrf_token
from smartapp.web.security import frame_for

bp = Blueprint("chart", __name__)


def services() -> Services:
    """The app's shared services."""
    return current_app.extensions["smartapp"]  # type: ignore[no-any-return]


@bp.get("/chart")
def page() -> str:
    """Evaluate the launch's patient and show the status, schedule, findings and trend."""
    app = services()
    access = request_access(app)
    frame_for(access.issuer.frame_ancestors)
    result = evaluate_launch(app, access)
    app.sessions.record_evaluation(access.handle, evaluation_to_json(result.evaluation))
    model = page_model(
        result.evaluation,
        result.facts,
        result.policy,
        result.patient,
        read_notes=result.read_notes,
        show_banner=access.grant.need_patient_banner,
        fhir_user=access.grant.fhir_user,
    )
    return render_template(
        "chart.html",
        page=model,
        handle=access.handle,
        csrf=csrf_token(app.settings.secret_key, access.handle),
        smart_style=bool(access.grant.smart_style_url),
    )


@bp.get("/ehr-style.css")
def ehr_style() -> Response:
    """The EHR's colours and fonts (smart_style_url) as CSS variables, if it sent a style."""
    app = services()
    access = request_access(app)
    url = access.grant.smart_style_url
    css = fetch_style(url, access.grant.iss, app.http_for(access.issuer)) if url else ""
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response
