"""The EHR front's Flask application: `create_app` wires the blueprints to one set of services."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from sandbox.ehr import auth, bulk, cds_chart, chart, control, discovery, portal, proxy
from sandbox.ehr.authserver import SandboxAuthorizationServer
from sandbox.ehr.card_text import card_html
from sandbox.ehr.cds_client import CdsClient
from sandbox.ehr.cds_signer import CdsSigner
from sandbox.ehr.clients import ClientRegistry, load_clients
from sandbox.ehr.config import SandboxConfig
from sandbox.ehr.csrf import csrf_token, set_cookie
from sandbox.ehr.engine import Engine
from sandbox.ehr.faults import FaultRegistry
from sandbox.ehr.keys import SigningKey
from sandbox.ehr.services import EXTENSION_KEY, EhrServices, load_manifest
from sandbox.ehr.store import Store
from sandbox.ehr.vendors import VendorOverrides


def create_app(
    config: SandboxConfig,
    *,
    engine_base: str | None = None,
    manifest_path: Path | None = None,
    ca_path: Path | None = None,
) -> Flask:
    """The EHR front for `config`, proxying to the engine at `engine_base` (default: config's)."""
    app = Flask(__name__)
    clients = ClientRegistry(load_clients(config.clients_file), ca_path=ca_path)
    store, faults = Store(), FaultRegistry()
    server = SandboxAuthorizationServer(config, clients, store, faults, SigningKey.generate())
    server.init_app(app)
    engine = Engine(engine_base or config.engine_base, config.fhir_base)
    signer = CdsSigner.generate(config.cds_client_iss)
    app.extensions[EXTENSION_KEY] = EhrServices(
        config=config,
        clients=clients,
        store=store,
        faults=faults,
        vendors=VendorOverrides(config.default_vendor),
        server=server,
        engine=engine,
        manifest=load_manifest(manifest_path),
        cds_signer=signer,
        cds=CdsClient(
            signer,
            engine,
            store,
            faults,
            fhir_base=config.fhir_base,
            client_id=config.app_client_id,
            services_url=config.cds_services_url,
            mode=config.cds_mode,
            ca_path=ca_path,
        ),
    )
    blueprints = (
        discovery.bp,
        auth.bp,
        bulk.bp,
        proxy.bp,
        chart.bp,
        cds_chart.bp,
        portal.bp,
        control.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.jinja_env.globals.update(csrf_token=csrf_token, card_html=card_html)
    app.after_request(set_cookie)

    @app.get("/")
    def home() -> tuple[str, int, dict[str, str]]:
        return "", 302, {"Location": "/chart"}

    return app
