"""Errors that say what to do, against the real sandbox EHR: an EHR whose certificate the app
does not trust is named, with the setting that fixes it; a refused sign-in quotes the EHR."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet

from smartapp.app import create_app
from smartapp.commands.db import upgrade
from tests.integration.app_harness import APP_ORIGIN, ORG_CONFIG, authorize_at_ehr, make_app

pytestmark = pytest.mark.integration


def test_launch_at_an_ehr_with_an_untrusted_certificate_names_the_host_and_the_setting(
    smart, tmp_path
) -> None:
    """The sandbox's certificate comes from its own CA; an issuers file without tls_ca_file."""
    issuers = tmp_path / "issuers.toml"
    issuers.write_text(
        f'[[issuer]]\niss = "{smart.iss}"\nclient_id = "clozapine-smartapp"\n'
        f'frame_ancestors = ["{smart.origin}"]\n'
    )
    database = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(database)
    app = create_app(
        {
            "BASE_URL": APP_ORIGIN,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "TOKEN_KEY": Fernet.generate_key().decode(),
            "ISSUERS_FILE": str(issuers),
            "ORG_CONFIG": str(ORG_CONFIG),
            "DATABASE_URL": database,
            "INSTANCE_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
        }
    )
    try:
        launch = smart.launch("sbx-weekly-current")
        page = app.test_client().get("/launch", query_string={"iss": smart.iss, "launch": launch})
    finally:
        app.extensions["smartapp"].close()
    html = page.get_data(as_text=True)
    assert page.status_code == 502 and "Location" not in page.headers
    assert "the app does not trust the TLS certificate of 127.0.0.1" in html
    assert "set tls_ca_file for it in the issuers file" in html


def test_a_refused_sign_in_shows_and_logs_the_ehr_error_description(
    smart, tmp_path, capsys
) -> None:
    app = make_app(tmp_path, smart, "clozapine-smartapp")
    try:
        launch = smart.launch("sbx-weekly-current")
        smart.fault(fault="invalid_client", launch=launch)
        client = app.test_client()
        started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
        callback = urlsplit(authorize_at_ehr(smart, started.headers["Location"]))
        capsys.readouterr()
        page = client.get(callback.path, query_string=callback.query)
    finally:
        app.extensions["smartapp"].close()
    assert page.status_code == 401
    said = 'The EHR refused the sign-in: "Client authentication failed."'
    assert said.replace('"', "&#34;") in page.get_data(as_text=True)
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["detail"] for line in logged if line.get("error") == "invalid_client"] == [
        f"{said}."
    ]
