"""The EHR front's Flask application: `create_app` wires the blueprints to one set of services."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from sandbox.ehr import auth, bulk, chart, control, discovery, portal, proxy
from sandbox.ehr.authserver import SandboxAuthorizationServer
from sandbox.ehr.clients import ClientRegistry, load_clients
from sandbox.ehr.config import SandboxConfig
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
    app.extensions[EXTENSION_KEY] = EhrServices(
        config=config,
        clients=clients,
        store=store,
        faults=faults,
        vendors=VendorOverrides(config.default_vendor),
        server=server,
        engine=Engine(engine_base or config.engine_base, config.fhir_base),
        manifest=load_manifest(manifest_path),
    )
    for blueprint in (discovery.bp, auth.bp, bulk.bp, proxy.bp, chart.bp, portal.bp, control.bp):
        app.register_blueprint(blueprint)

    @app.get("/")
    def home() -> tuple[str, int, dict[str, str]]:
        return "", 302, {"Location": "/chart"}

    return app
