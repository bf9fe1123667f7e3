"""The chart's CDS Hooks pages: cards at chart open, the clozapine order form, card actions.

`patient-view` runs when a chart opens, `order-select` when a clozapine order is drafted,
`order-sign` when it is signed. A critical card must be accepted (its suggestion done: a
ServiceRequest placed in the FHIR engine, or the draft removed) or overridden with a reason
before the order is signed; feedback is sent either way. Every action is a POST carrying the
chart's CSRF token; the chart's key is published at `/cds-client/jwks.json`.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from sandbox.ehr.cds_actions import (
    ActionRefused,
    accepted_feedback,
    apply_suggestion,
    override_feedback,
    sign_draft,
    suggestion_of,
)
from sandbox.ehr.cds_board import Draft, ShownCard, clozapine_draft
from sandbox.ehr.cds_client import CdsUnavailable
from sandbox.ehr.cds_hooks import run_hook, user_of
from sandbox.ehr.chart import banner_of
from sandbox.ehr.csrf import check_csrf
from sandbox.ehr.engine import EngineError
from sandbox.ehr.services import EhrServices, services

bp = Blueprint("cds_chart", __name__)
MAX_DOSE_MG, MAX_SUPPLY_DAYS = 900, 90


@bp.get("/cds-client/jwks.json")
def cds_jwks() -> Response:
    """The public key of the chart's CDS Hooks JWTs."""
    return jsonify(services().cds_signer.public_jwks())


def _banner(ehr: EhrServices, patient: str) -> Any:
    try:
        resource = ehr.engine.read("Patient", patient)
    except EngineError:
        abort(502, "The FHIR engine is not reachable")
    if resource is None:
        abort(404)
    return banner_of(resource)


def _draft(ehr: EhrServices, patient: str, draft_id: str) -> Draft:
    draft = ehr.board.draft(patient, draft_id)
    if draft is None:
        abort(404)
    return draft


def _open_draft(ehr: EhrServices, patient: str, draft_id: str) -> Draft:
    """The draft, still neither signed nor removed (409 otherwise)."""
    draft = _draft(ehr, patient, draft_id)
    if draft.signed or draft.removed:
        abort(409, "The order is no longer a draft")
    return draft


def _number(name: str, low: int, high: int) -> int:
    value = request.form.get(name, "")
    if not value.isdigit() or not low <= int(value) <= high:
        abort(400, f"{name} must be a whole number from {low} to {high}")
    return int(value)


@bp.post("/chart/<patient_id>/orders")
def draft_order(patient_id: str) -> Any:
    """Draft a clozapine order from the form, then ask `order-select` about it."""
    check_csrf()
    ehr = services()
    _banner(ehr, patient_id)
    try:
        start = date.fromisoformat(request.form.get("start", ""))
    except ValueError:
        abort(400, "start must be a date (YYYY-MM-DD)")
    resource = clozapine_draft(
        f"draft-{secrets.token_hex(6)}",
        patient_id,
        ehr.default_practitioner(),
        dose_mg=_number("dose_mg", 1, MAX_DOSE_MG),
        start=start,
        supply_days=_number("supply_days", 1, MAX_SUPPLY_DAYS),
    )
    draft = ehr.board.add_draft(patient_id, resource)
    shown = run_hook(ehr, "order-select", patient_id, draft)
    draft.select_cards = [c.uuid for c in shown.cards]
    return _order_page(ehr, draft, shown.error, 200)


@bp.get("/chart/<patient_id>/orders/<draft_id>")
def order_page(patient_id: str, draft_id: str) -> Any:
    ehr = services()
    return _order_page(ehr, _draft(ehr, patient_id, draft_id), None, 200)


def _order_page(ehr: EhrServices, draft: Draft, error: str | None, status: int) -> Any:
    sign_cards = ehr.board.cards(draft.sign_cards)
    return (
        render_template(
            "chart_order.html",
            banner=_banner(ehr, draft.patient),
            draft=draft,
            select_cards=ehr.board.cards(draft.select_cards),
            sign_cards=sign_cards,
            undecided=[c for c in sign_cards if c.needs_decision],
            error=error,
        ),
        status,
    )


@bp.post("/chart/<patient_id>/orders/<draft_id>/sign")
def sign_order(patient_id: str, draft_id: str) -> Any:
    """Ask `order-sign`; with no card the order is signed at once."""
    check_csrf()
    ehr = services()
    draft = _open_draft(ehr, patient_id, draft_id)
    shown = run_hook(ehr, "order-sign", patient_id, draft)
    draft.sign_cards = [c.uuid for c in shown.cards]
    if shown.error is not None:
        # An EHR whose decision support is down says so; the order waits for the user.
        return _order_page(ehr, draft, shown.error, 200)
    if not shown.cards:
        return _finish(ehr, draft)
    return redirect(f"/chart/{patient_id}/orders/{draft_id}", 303)


@bp.post("/chart/<patient_id>/orders/<draft_id>/complete")
def complete_order(patient_id: str, draft_id: str) -> Any:
    """Sign the order once every critical card of `order-sign` was accepted or overridden."""
    check_csrf()
    ehr = services()
    draft = _open_draft(ehr, patient_id, draft_id)
    if not draft.sign_cards:
        abort(409, "Sign the order first: decision support has not been asked")
    if any(c.needs_decision for c in ehr.board.cards(draft.sign_cards)):
        return _order_page(ehr, draft, "accept or override every critical card first", 409)
    return _finish(ehr, draft)


def _finish(ehr: EhrServices, draft: Draft) -> Any:
    try:
        draft.signed_as = sign_draft(ehr.engine, draft)
    except ActionRefused as error:
        return _order_page(ehr, draft, str(error), 502)
    draft.signed = True
    return redirect(f"/chart/{draft.patient}/orders/{draft.draft_id}", 303)


def _card(ehr: EhrServices, patient: str, card_uuid: str) -> ShownCard:
    shown = ehr.board.card(patient, card_uuid)
    if shown is None:
        abort(404)
    if shown.outcome is not None:
        abort(409, "The card was already acted on")
    return shown


def _back(shown: ShownCard) -> Any:
    if shown.draft_id is not None:
        return redirect(f"/chart/{shown.patient}/orders/{shown.draft_id}", 303)
    return redirect(f"/chart/{shown.patient}?{urlencode({'card': shown.uuid})}", 303)


def _refused(ehr: EhrServices, shown: ShownCard, message: str) -> Any:
    if shown.draft_id is not None:
        return _order_page(ehr, _draft(ehr, shown.patient, shown.draft_id), message, 400)
    return render_template("chart_message.html", message=message, patient=shown.patient), 400


@bp.post("/chart/<patient_id>/cards/<card_uuid>/accept")
def accept_suggestion(patient_id: str, card_uuid: str) -> Any:
    """Do the suggestion the user picked, then send the service `accepted` feedback."""
    check_csrf()
    ehr = services()
    shown = _card(ehr, patient_id, card_uuid)
    chosen = request.form.get("suggestion", "")
    try:
        suggestion = suggestion_of(shown, chosen)
        shown.detail = apply_suggestion(ehr.engine, ehr.board, shown, suggestion, user_of(ehr))
    except ActionRefused as error:
        return _refused(ehr, shown, str(error))
    shown.outcome = "accepted"
    _send_feedback(ehr, shown, accepted_feedback(shown, chosen))
    return _back(shown)


@bp.post("/chart/<patient_id>/cards/<card_uuid>/override")
def override_card(patient_id: str, card_uuid: str) -> Any:
    """Override the card with a reason, then send the service `overridden` feedback."""
    check_csrf()
    ehr = services()
    shown = _card(ehr, patient_id, card_uuid)
    try:
        item = override_feedback(
            shown, request.form.get("reason", ""), request.form.get("comment", "")
        )
    except ActionRefused as error:
        return _refused(ehr, shown, str(error))
    shown.outcome = "overridden"
    reason = item["overrideReason"].get("reason", {})
    shown.detail = (
        f"overridden: {reason.get('display') or item['overrideReason'].get('userComment')}"
    )
    _send_feedback(ehr, shown, item)
    return _back(shown)


def _send_feedback(ehr: EhrServices, shown: ShownCard, item: dict[str, Any]) -> None:
    try:
        ehr.cds.feedback(shown.service_id, [item])
    except CdsUnavailable as error:
        shown.detail += f" (feedback not delivered: {error})"


@bp.post("/chart/<patient_id>/cards/<card_uuid>/links/<int:index>")
def open_link(patient_id: str, card_uuid: str, index: int) -> Any:
    """A card's `smart` link: a fresh launch of the app for this patient (in the chart's frame)."""
    check_csrf()
    ehr = services()
    shown = ehr.board.card(patient_id, card_uuid)
    links = shown.card.get("links") if shown is not None else None
    if not isinstance(links, list) or not 0 <= index < len(links):
        abort(404)
    link = links[index]
    url = link.get("url") if isinstance(link, dict) else None
    if not isinstance(url, str) or not url.startswith("https://") or link.get("type") != "smart":
        abort(400, "The link is not a SMART app link")
    launch = ehr.create_launch(
        patient_id,
        encounter=ehr.latest_encounter(patient_id),
        client_id=ehr.config.app_client_id,
        smart_style_url=f"{ehr.config.origin}/smart-style.json",
    )
    query = urlencode({"iss": ehr.config.fhir_base, "launch": launch.launch_id})
    separator = "&" if "?" in url else "?"
    return redirect(f"{url}{separator}{query}", 303)
