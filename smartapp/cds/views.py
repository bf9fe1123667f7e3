"""The CDS Hooks routes: `GET /cds-services`, `POST /cds-services/{id}` and its `/feedback`.

EHRs call these, not browsers: each request is authenticated by the EHR's signed JWT
(smartapp.cds.trust), so they are exempt from the app's CSRF check (which guards the session
forms), and they answer JSON only. CORS is answered for the origins of the configured EHRs
(`frame_ancestors`), for EHRs that call from the browser; the JSON is never framed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug.wrappers import Response

from clozapine import PatientFacts, Registry
from fhir_mappings import JsonReadError, read_json
from smartapp.cds.catalogue import BY_ID, discovery
from smartapp.cds.feedback import FeedbackError, read_feedback, record_feedback
from smartapp.cds.fetch import authorized_reader
from smartapp.cds.response import (
    HookAnswer,
    HookRequestError,
    HookSettings,
    PrefetchMissing,
    answer_hook,
)
from smartapp.cds.trust import ClientRejected, KeySets, TrustedClient, Verifier
from smartapp.clock import now_utc
from smartapp.db.cds_store import CardStore, IssuedCard, JwtIdLedger
from smartapp.services import Services, current_services
from smartapp.web.csrf import csrf_exempt
from smartapp.web.security import frame_for

bp = Blueprint("cds", __name__)
LOGGER = logging.getLogger(__name__)
CDS_KEY = "smartapp.cds"
# A patient's prefetch (two years of weekly results with their parts) runs to a few MB.
MAX_REQUEST_BYTES = 8 * 1024 * 1024
CORS_HEADERS = "Authorization, Content-Type"


class CdsState:
    """What the service keeps beside the app's services: the JWT checker, the cards, and the
    origins CORS is answered for (the issuers file is read once, at start-up)."""

    def __init__(self, services: Services) -> None:
        self.cards = CardStore(services.database)
        self.cors_origins = frozenset(
            origin for issuer in services.issuers for origin in issuer.frame_ancestors
        )
        self.verifier = Verifier(
            services.issuers, KeySets(services.http_for), JwtIdLedger(services.database)
        )


def init_cds(app: Flask, services: Services) -> None:
    """Register the service on the app."""
    app.extensions[CDS_KEY] = CdsState(services)
    app.register_blueprint(bp)


def _state() -> CdsState:
    state: CdsState = current_app.extensions[CDS_KEY]
    return state


def _error(status: int, error: str, reason: str) -> tuple[Response, int]:
    return jsonify(error=error, reason=reason), status


def _trusted(app: Services, path: str) -> TrustedClient:
    audience = f"{app.settings.base_url}{path}"
    return _state().verifier.verify(request.headers.get("Authorization"), audience, now=now_utc())


def _body() -> Any:
    request.max_content_length = MAX_REQUEST_BYTES
    try:
        return read_json(request.get_data(cache=False))
    except JsonReadError:
        raise HookRequestError("the body is not JSON") from None


@bp.errorhandler(ClientRejected)
def _rejected(error: ClientRejected) -> tuple[Response, int]:
    LOGGER.warning("CDS client refused", extra={"fields": {"reason": error.reason}})
    response, status = _error(401, "unauthorized", error.reason)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response, status


@bp.errorhandler(HookRequestError)
def _bad_request(error: HookRequestError) -> tuple[Response, int]:
    return _error(400, "bad_request", str(error))


@bp.errorhandler(FeedbackError)
def _bad_feedback(error: FeedbackError) -> tuple[Response, int]:
    return _error(400, "bad_request", str(error))


@bp.errorhandler(PrefetchMissing)
def _precondition(error: PrefetchMissing) -> tuple[Response, int]:
    return _error(412, "precondition_failed", str(error))


@bp.before_request
def _never_framed() -> None:
    frame_for(())  # JSON for EHR servers: CSP frame-ancestors 'none'


@bp.after_request
def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin.lower() in _state().cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Vary"] = "Origin"
    return response


@bp.route("/cds-services", methods=["OPTIONS"])
@bp.route("/cds-services/<service_id>", methods=["OPTIONS"])
@bp.route("/cds-services/<service_id>/feedback", methods=["OPTIONS"])
def preflight(service_id: str | None = None) -> Response:
    """CORS preflight: answered without a JWT (browsers send none), and changes nothing."""
    return Response(status=204)


@bp.get("/cds-services")
def services_list() -> Response:
    """Discovery: the three services and their prefetch templates. The only thing this GET
    records is its JWT's `jti`, which the replay guard needs."""
    app = current_services()
    _trusted(app, "/cds-services")
    return jsonify(discovery(app.org.local_anc_codes))


@bp.post("/cds-services/<service_id>")
@csrf_exempt("called by EHRs, authenticated by their signed JWT (CDS Hooks 2.0)")
def hook(service_id: str) -> tuple[Response, int]:
    """One hook call: the cards for the patient (cds-hooks.md)."""
    app = current_services()
    client = _trusted(app, f"/cds-services/{service_id}")
    service = BY_ID.get(service_id)
    if service is None:
        return _error(404, "not_found", f"no CDS service {service_id[:64]!r}")
    body = _body()
    issuer = client.issuer
    as_of = app.today()
    policy = app.policy_on(as_of)
    settings = HookSettings(
        app.org.mapping_settings(),
        as_of,
        policy,
        f"{app.settings.base_url}/launch",
        _registry_for(app, issuer.iss, policy.reads_registry),
    )
    cards = _state().cards
    answer = answer_hook(
        service,
        body,
        settings,
        read_missing=authorized_reader(app, issuer, body),
        silenced=lambda patient, found: cards.overridden(issuer.iss, patient, found),
    )
    _keep_card(cards, answer, issuer.iss, service_id, body)
    return jsonify(answer.response), 200


def _registry_for(
    app: Services, iss: str, applies: bool
) -> Callable[[PatientFacts], Registry | None]:
    def registry(facts: PatientFacts) -> Registry | None:
        return app.registry.registry_for_facts(iss, facts) if applies else None

    return registry


def _keep_card(cards: CardStore, answer: HookAnswer, iss: str, service: str, body: Any) -> None:
    """Keep each card answered, so its feedback names its findings (references and codes)."""
    context = body.get("context") if isinstance(body, dict) else None
    user = context.get("userId") if isinstance(context, dict) else None
    for card in answer.response["cards"]:
        cards.add(
            IssuedCard(
                uuid=card["uuid"],
                iss=iss,
                service=service,
                patient=answer.patient,
                user=user[:200] if isinstance(user, str) and user else None,
                findings=answer.card_findings or (),
                issued_at=now_utc(),
                overridden_at=None,
            )
        )


@bp.post("/cds-services/<service_id>/feedback")
@csrf_exempt("called by EHRs, authenticated by their signed JWT (CDS Hooks 2.0)")
def feedback(service_id: str) -> tuple[Response, int]:
    """Feedback on the service's cards, recorded in the audit trail."""
    app = current_services()
    client = _trusted(app, f"/cds-services/{service_id}/feedback")
    if service_id not in BY_ID:
        return _error(404, "not_found", f"no CDS service {service_id[:64]!r}")
    outcomes = read_feedback(_body())
    record_feedback(
        _state().cards,
        app.audit.record,
        outcomes,
        iss=client.issuer.iss,
        service=service_id,
        client=client.issuer.cds_client_iss or client.issuer.name,
        at=now_utc(),
        request_id=g.get("request_id"),
    )
    return jsonify({}), 200
