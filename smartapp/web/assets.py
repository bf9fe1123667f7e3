"""Files the app serves besides its own static folder: browser libraries and its public JWKS."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, jsonify, send_file
from werkzeug.wrappers import Response

from smartapp.services import current_services

bp = Blueprint("vendor", __name__)

# npm packages installed by scripts/install, outside the static folder so that only these
# allow-listed files are served (no CDN: EHR networks often block them).
LIBRARIES = Path(__file__).resolve().parents[2] / "browser-libs" / "node_modules"
VENDOR_FILES = {
    "chart.umd.min.js": LIBRARIES / "chart.js/dist/chart.umd.min.js",
    "chartjs-plugin-annotation.min.js": (
        LIBRARIES / "chartjs-plugin-annotation/dist/chartjs-plugin-annotation.min.js"
    ),
    # The accessibility checker the browser tests inject into the app's own frame; no page of
    # the app loads it.
    "axe.min.js": LIBRARIES / "axe-core/axe.min.js",
}


@bp.get("/static/vendor/<name>")
def asset(name: str) -> Response:
    """One allow-listed library file, cached for a day."""
    path = VENDOR_FILES.get(name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="text/javascript", max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The app's public signing keys, for EHRs that verify its private_key_jwt assertions."""
    # Read again from storage every 30 s at most (another instance or `smartapp keys rotate` may
    # have rotated them), not per request: the URL is public and each read parses every key.
    response = jsonify(current_services().keys.published_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
