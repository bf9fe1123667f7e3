"""Sandbox settings and the clients file: defaults, overrides, and messages naming bad settings."""

from __future__ import annotations

import pytest

from sandbox.ehr.clients import client_from_dict, load_clients
from sandbox.ehr.config import DEFAULT_CONFIG_FILE, PROJECT_ROOT, ConfigError, load_config


def test_config_committed_file_has_the_documented_defaults():
    config = load_config(DEFAULT_CONFIG_FILE)
    assert config.fhir_base == "https://127.0.0.1:9443/fhir"
    assert config.engine_port == 9444
    assert config.app_launch_url == "https://localhost:8443/launch"
    assert config.access_token_lifetime_s == 570
    assert config.tls_dir == PROJECT_ROOT / "var" / "sandbox" / "tls"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[ehr]\nport = 'x'\n", "port"),
        ("[ehr]\ncolour = 'red'\n", "colour"),
        ("[ehr]\ndefault_vendor = 'cerner'\n", "default_vendor"),
        ("[ehr]\nhost = '0.0.0.0'\n", "host"),
        ("[app]\nlaunch_url = 'http://localhost/launch'\n", "launch_url"),
        ("[ehr\n", "TOML"),
    ],
)
def test_config_bad_setting_is_named(tmp_path, text, named):
    path = tmp_path / "sandbox.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=named):
        load_config(path)


def test_config_committed_clients_are_valid():
    clients = load_clients(PROJECT_ROOT / "sandbox" / "clients.toml")
    app = clients["clozapine-smartapp"]
    assert app.token_endpoint_auth_method == "none"
    assert app.check_redirect_uri("https://localhost:8443/callback")
    assert not app.check_redirect_uri("https://localhost:8443/callback/")
    assert clients["clozapine-smartapp-confidential"].check_endpoint_auth_method(
        "client_secret_post", "token"
    )
    assert not app.check_endpoint_auth_method("client_secret_basic", "token")
    backend = clients["clozapine-smartapp-backend"]
    assert backend.grant_types == ("client_credentials",) and backend.redirect_uris == ()
    assert backend.jwks_uri == "https://localhost:8443/.well-known/jwks.json"
    assert not app.check_grant_type("client_credentials")


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"token_endpoint_auth_method": "magic"}, "token_endpoint_auth_method"),
        ({"redirect_uris": [], "scope": ["openid"]}, "redirect_uris"),
        ({"redirect_uris": ["https://a/cb"], "scope": ["patient/Nope.x"]}, "unknown scope"),
        (
            {
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": ["https://a/cb"],
                "scope": ["openid"],
            },
            "client_secret",
        ),
        (
            {
                "token_endpoint_auth_method": "private_key_jwt",
                "redirect_uris": ["https://a/cb"],
                "scope": ["openid"],
            },
            "jwks",
        ),
        ({"redirect_uris": ["https://a/cb"], "scope": ["openid"], "vendor": "x"}, "vendor"),
        (
            {"scope": ["system/*.rs"], "grant_types": ["client_credentials"]},
            "client_credentials needs private_key_jwt",
        ),
        (
            {"redirect_uris": ["https://a/cb"], "scope": ["openid"], "grant_types": ["password"]},
            "grant_types must be among",
        ),
    ],
)
def test_config_bad_client_is_named(table, named):
    with pytest.raises(ConfigError, match=named):
        client_from_dict("c1", table)
