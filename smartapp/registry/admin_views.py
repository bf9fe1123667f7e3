"""The registry administrator's page: prescribers' and pharmacies' certifications, and their audit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from clozapine import RegistryFormatError
from clozapine.standing import valid_through
from smartapp.registry import forms as fields
from smartapp.registry.access import (
    Requester,
    admin,
    request_id,
    writer,
)
from smartapp.registry.forms import FormError
from smartapp.services import Services, current_services

bp = Blueprint("registry_admin", __name__, url_prefix="/admin/registry")

RECENT_EVENTS = 50
OUTCOMES = ("created", "updated", "unchanged")
# The record kinds the page edits: the export's list, its reference field and type, the form.
KINDS = {
    "prescriber": ("prescribers", "practitioner", "Practitioner"),
    "pharmacy": ("pharmacies", "organization", "Organization"),
}


@dataclass(frozen=True, slots=True)
class Certified:
    """One certification row of the page, with the day it is valid through."""

    reference: str
    name: str | None
    certified_on: date
    expires_on: date | None
    through: date | None
    expired: bool


@bp.get("")
def page() -> str:
    """Both lists, the add/update forms (prefilled by `edit`), and the recent registry audit."""
    app = current_services()
    return _render(app, admin(app))[0]


@bp.post("/prescribers")
def save_prescriber() -> Response | tuple[str, int]:
    """Create or update a prescriber's certification."""
    return _save("prescriber")


@bp.post("/pharmacies")
def save_pharmacy() -> Response | tuple[str, int]:
    """Create or update a pharmacy's certification."""
    return _save("pharmacy")


def _save(kind: str) -> Response | tuple[str, int]:
    app = current_services()
    who = admin(app)
    actor = writer(app, who)
    _, field, resource = KINDS[kind]
    form, on_day = request.form, app.today()
    try:
        reference = fields.reference(form, field, resource) or ""
        certified_on = fields.record_date(form, "certified_on", on_day)
        values: dict[str, Any] = {
            "expires_on": fields.expiry_date(form, "expires_on", certified_on, on_day),
            "actor": actor,
            "request_id": request_id(),
        }
        label = fields.name(form, "name")
        if kind == "prescriber":
            outcome = app.registry.upsert_prescriber(
                who.iss, reference, certified_on, display_name=label, **values
            )
        else:
            outcome = app.registry.upsert_pharmacy(
                who.iss, reference, certified_on, name=label, **values
            )
    except (FormError, RegistryFormatError) as error:
        return _render(app, who, error=str(error), failed=kind)
    return redirect(url_for(".page", h=who.handle, done=outcome, ref=reference), code=303)


def _render(
    app: Services, who: Requester, *, error: str | None = None, failed: str | None = None
) -> tuple[str, int]:
    exported = app.registry.export(who.iss)
    renewal = app.org.program.certification_renewal_days if app.org.program else None
    as_of = app.today()
    lists = {
        kind: [_certified(record, field, renewal, as_of) for record in exported[key]]
        for kind, (key, field, _) in KINDS.items()
    }
    html = render_template(
        "admin/registry.html",
        handle=who.handle,
        csrf=who.csrf,
        user=who.user,
        lists=lists,
        prefill={kind: _prefill(kind, lists[kind], failed, error) for kind in KINDS},
        error=error,
        failed=failed,
        done=_done(),
        events=app.audit.events(who.iss, action_prefix="registry.", limit=RECENT_EVENTS),
        as_of=as_of,
        smart_style=who.smart_style,
    )
    return html, 400 if error else 200


def _certified(record: dict[str, Any], field: str, renewal: int | None, as_of: date) -> Certified:
    certified_on = date.fromisoformat(record["certified"])
    expires_on = date.fromisoformat(record["expires"]) if record.get("expires") else None
    through = valid_through(certified_on, expires_on, renewal)
    return Certified(
        record[field],
        record.get("name"),
        certified_on,
        expires_on,
        through,
        through is not None and as_of > through,
    )


def _prefill(
    kind: str, rows: list[Certified], failed: str | None, error: str | None
) -> dict[str, str]:
    """The form's values: as sent after a refused POST, else the record named by `edit`."""
    if error and failed == kind:
        return {k: str(v) for k, v in request.form.items()}
    _, field, resource = KINDS[kind]
    wanted = request.args.get("edit", "")
    row = next((r for r in rows if r.reference == wanted and wanted.startswith(resource)), None)
    if row is None:
        return {}
    return {
        field: row.reference,
        "name": row.name or "",
        "certified_on": row.certified_on.isoformat(),
        "expires_on": row.expires_on.isoformat() if row.expires_on else "",
    }


def _done() -> tuple[str, str] | None:
    """The last save's outcome and reference, from the redirect's query (checked, not trusted)."""
    outcome, reference = request.args.get("done", ""), request.args.get("ref", "")
    if outcome in OUTCOMES and re.fullmatch(
        r"(Practitioner|Organization)/[A-Za-z0-9\-.]{1,64}", reference
    ):
        return outcome, reference
    return None
