"""The launch's patient in the program: enrollment and status forms, shown and recorded."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from clozapine import RegistryFormatError
from smartapp.chart.page_model import PageModel
from smartapp.registry import forms as fields
from smartapp.registry.access import (
    Requester,
    request_id,
    requester,
    services,
    today,
    writer,
)
from smartapp.registry.forms import FormError
from smartapp.registry.program_panel import ProgramPanel, build_panel
from smartapp.services import Services

bp = Blueprint("program", __name__)


@bp.app_context_processor
def _panel_builder() -> dict[str, Any]:
    """Templates may call `program_panel(page)`; the chart's partial does, once per page."""
    return {"program_panel": chart_panel}


def chart_panel(page: PageModel) -> ProgramPanel | None:
    """The program panel for the chart page's evaluation (None when no program applies)."""
    app = services()
    evaluation = page.evaluation
    return build_panel(app, requester(app), evaluation.as_of, evaluation.findings)


@bp.get("/program")
def show() -> str:
    """The patient's enrollment and status-form records, with the forms to add one."""
    app = services()
    return _page(app, requester(app))[0]


@bp.post("/program/enrollment")
def record_enrollment() -> Response | tuple[str, int]:
    """Record an enrollment for the launch's patient, then show the re-evaluated chart."""
    app = services()
    who = requester(app)
    actor = writer(app, who)
    form, on_day = request.form, today(app)
    try:
        enrolled_on = fields.record_date(form, "enrolled_on", on_day)
        prescriber = fields.reference(form, "prescriber", "Practitioner", required=False)
        status = fields.status(form, "status")
        expires_on = fields.expiry_date(form, "expires_on", enrolled_on, on_day)
        app.registry.record_enrollment(
            who.patient,
            enrolled_on,
            actor=actor,
            prescriber_reference=prescriber,
            status=status,
            expires_on=expires_on,
            request_id=request_id(),
        )
    except (FormError, RegistryFormatError) as error:
        return _page(app, who, error=str(error), form="enrollment")
    return redirect(url_for("chart.page", h=who.handle), code=303)


@bp.post("/program/status-form")
def record_status_form() -> Response | tuple[str, int]:
    """Record a Patient Status Form for the launch's patient, then show the re-evaluated chart."""
    app = services()
    who = requester(app)
    actor = writer(app, who)
    form = request.form
    try:
        submitted_on = fields.record_date(form, "submitted_on", today(app))
        anc = fields.anc_per_ul(form, "anc_reported")
        app.registry.record_status_form(
            who.patient,
            submitted_on,
            actor=actor,
            anc_reported_per_ul=anc,
            request_id=request_id(),
        )
    except (FormError, RegistryFormatError) as error:
        return _page(app, who, error=str(error), form="status-form")
    return redirect(url_for("chart.page", h=who.handle), code=303)


def _page(
    app: Services, who: Requester, *, error: str | None = None, form: str | None = None
) -> tuple[str, int]:
    """The program page; after a refused form, with its message and the values sent (400)."""
    html = render_template(
        "program/record.html",
        panel=build_panel(app, who, today(app)),
        handle=who.handle,
        csrf=who.csrf,
        error=error,
        failed_form=form,
        sent=request.form if error else {},
        smart_style=who.smart_style,
    )
    return html, 400 if error else 200
