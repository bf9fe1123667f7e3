"""Liveness and readiness for load balancers: /healthz (alive), /readyz (database usable)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from smartapp.db.readiness import database_readiness
from smartapp.services import current_services

bp = Blueprint("health", __name__)
LOGGER = logging.getLogger("smartapp.health")


@bp.get("/healthz")
def alive() -> Response:
    """The process answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
def ready() -> tuple[Response, int]:
    """The database can be written and its schema is at the migration head; else 503, logged
    with the cause."""
    found = database_readiness(current_services().database)
    if not found.ready:
        LOGGER.warning("not ready", extra={"fields": {"cause": found.cause}})
        return jsonify(status="unavailable", database=found.database, schema=found.schema), 503
    return jsonify(status="ok", database=found.database, schema=found.schema), 200
