"""The launch's patient in the program: enrollment and status forms, shown and recorded."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from clozapine import Registry, RegistryFormatError
from smartapp.registry import forms as fields
from smartapp.registry.access import (
    Requester,
    request_id,
    requester,
    writer,
)
from smartapp.registry.forms import FormError
from smartapp.registry.program_panel import build_panel
from smartapp.services import Services, current_services

bp = Blueprint("program", __name__)


@bp.get("/program")
def show() -> str:
    """The patient's enrollment and status-form records, with the forms to add one."""
    app = current_services()
    return _page(app, requester(app))[0]


@bp.post("/program/enrollment")
def record_enrollment() -> Response | tuple[str, int]:
    """Record an enrollment for the launch's patient, then show the re-evaluated chart."""
    app = current_services()
    who = requester(app)
    actor = writer(app, who)
    form, on_day = request.form, app.today()
    try:
        enrolled_on = fields.record_date(form, "enrolled_on", on_day)
        prescriber = fields.reference(form, "prescriber", "Practitioner", required=False)
        status = fields.status(form, "status")
        expires_on = fields.expiry_date(form, "expires_on", enrolled_on, on_day)
        app.registry.record_enrollment(
            who.iss,
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
    app = current_services()
    who = requester(app)
    actor = writer(app, who)
    form = request.form
    try:
        submitted_on = fields.record_date(form, "submitted_on", app.today())
        anc = fields.anc_per_ul(form, "anc_reported")
        app.registry.record_status_form(
            who.iss,
            who.patient,
            submitted_on,
            actor=actor,
            anc_reported_per_ul=anc,
            request_id=request_id(),
        )
    except (FormError, RegistryFormatError) as error:
        return _page(app, who, error=str(error), form="status-form")
    return redirect(url_for("chart.page", h=who.handle), code=303)


def registry_for(app: Services, who: Requester) -> Registry:
    """The patient's registry records and the signed-in prescriber's certification."""
    prescriber = who.user if who.user and who.user.startswith("Practitioner/") else None
    return app.registry.registry_for(who.iss, who.patient, prescriber_reference=prescriber)


def _page(
    app: Services, who: Requester, *, error: str | None = None, form: str | None = None
) -> tuple[str, int]:
    """The program page; after a refused form, with its message and the values sent (400)."""
    html = render_template(
        "program/record.html",
        panel=build_panel(app, who, app.today(), registry_for(app, who)),
        handle=who.handle,
        csrf=who.csrf,
        error=error,
        failed_form=form,
        sent=request.form if error else {},
        smart_style=who.smart_style,
    )
    return html, 400 if error else 200
