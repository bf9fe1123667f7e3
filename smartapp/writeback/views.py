"""Write-back: POST /writeback writes the page's findings to the chart; /admin/audit lists writes.

The write is the prescriber's one click (CSRF-checked, works without JavaScript). The findings
are evaluated again on the server: the form can only select among the current ones. The answer
is the chart page itself, with the results where the write button was.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState

from clozapine.registry import normalise_reference
from smartapp.chart import views as chart
from smartapp.ehr.evaluation import evaluate_launch
from smartapp.errors import Forbidden
from smartapp.services import Services
from smartapp.web.csrf import check_csrf
from smartapp.web.security import frame_for
from smartapp.web.session import current_session
from smartapp.writeback import CapabilityCache
from smartapp.writeback.panel import (
    CACHE_KEY,
    CHANGES_KEY,
    OUTCOMES_KEY,
    chart_panel,
    launch_writeback,
)

bp = Blueprint("writeback", __name__)
AUDIT_PAGE_SIZE = 200


def services() -> Services:
    """The app's shared services."""
    return current_app.extensions["smartapp"]  # type: ignore[no-any-return]


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault(CACHE_KEY, CapabilityCache())


@bp.app_context_processor
def _panel_builder() -> dict[str, Any]:
    """Templates may call `writeback_panel(page)`; the chart's partial does, once per page."""
    return {"writeback_panel": chart_panel}


@bp.post("/writeback")
def write() -> str:
    """Write the current triggering findings (or those selected by `finding`) to the chart."""
    app = services()
    current = current_session(app.sessions)
    check_csrf(app.settings.secret_key, current.handle)
    writeback = launch_writeback()
    frame_for(writeback.access.issuer.frame_ancestors)
    selected = request.form.getlist("finding") or None
    launch = evaluate_launch(app, writeback.access)
    # The lifecycle first: a finding that holds again reopens its resource instead of a new one.
    setattr(g, CHANGES_KEY, writeback.lifecycle(launch.evaluation))
    setattr(g, OUTCOMES_KEY, writeback.write(launch, selected))
    return chart.page()


@bp.get("/admin/audit")
def audit() -> str:
    """The audit trail, newest first: who wrote what to which EHR (administrators only)."""
    app = services()
    current = current_session(app.sessions)
    grant = current.session.grant
    frame_for(app.issuers.get(grant.iss).frame_ancestors)
    user = normalise_reference(grant.fhir_user) if grant.fhir_user else None
    if user is None or user not in {normalise_reference(a) for a in app.settings.registry_admins}:
        raise Forbidden(
            "Only administrators may read the audit trail. Ask your program administrator to"
            " add your user to SMARTAPP_REGISTRY_ADMINS."
        )
    target = request.args.get("target") or None
    return render_template(
        "audit.html",
        events=app.audit.events(target=target, limit=AUDIT_PAGE_SIZE),
        target=target,
        handle=current.handle,
        smart_style=None,
    )
