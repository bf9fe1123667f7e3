"""create_app(): the Flask application, configured from the environment or a test mapping."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.wrappers import Response

from smartapp.cds.views import init_cds
from smartapp.chart import views as chart
from smartapp.coordinator import views as coordinator
from smartapp.patient import views as patient
from smartapp.patient.i18n import init_languages
from smartapp.registry import admin_views as registry_admin
from smartapp.registry import program_views as program
from smartapp.rules import views as rules
from smartapp.services import build_services
from smartapp.settings import load_settings
from smartapp.web import assets, health, signout
from smartapp.web import launch_views as launch_bp
from smartapp.web.error_pages import init_error_pages
from smartapp.web.request_log import configure_logging, init_request_log
from smartapp.web.security import add_security_headers
from smartapp.writeback import views as writeback

STATIC_FOLDER = Path(__file__).resolve().parents[1] / "static"


def create_app(test_config: Mapping[str, str] | None = None) -> Flask:
    """The app; `test_config` overrides SMARTAPP_* settings (names without the prefix)."""
    settings = load_settings(test_config)
    configure_logging(settings.log_level)
    app = Flask(__name__, static_folder=str(STATIC_FOLDER), static_url_path="/static")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="None",
    )
    services = build_services(settings)
    app.extensions["smartapp"] = services
    default_ancestors = tuple(
        origin for issuer in services.issuers for origin in issuer.frame_ancestors
    )
    for blueprint in (
        launch_bp.bp,
        chart.bp,
        coordinator.bp,
        patient.bp,
        health.bp,
        assets.bp,
        program.bp,
        registry_admin.bp,
        rules.bp,
        signout.bp,
        writeback.bp,
    ):
        app.register_blueprint(blueprint)
    init_languages(app)
    init_cds(app, services)
    init_request_log(app)
    init_error_pages(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        return add_security_headers(response, default_ancestors)

    return app
