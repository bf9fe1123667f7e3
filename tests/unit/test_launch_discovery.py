"""Discovery: smart-configuration, the CapabilityStatement fallback, refusals, timeouts, cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import responses

from launch import DiscoveryCache, LaunchError, discover
from launch.discovery import OAUTH_URIS
from tests.unit.test_launch_fake_ehr import (
    AUTHORIZE_URL,
    ISS,
    JWKS_URL,
    ORIGIN,
    TOKEN_URL,
    smart_configuration_json,
)

WELL_KNOWN = f"{ISS}/.well-known/smart-configuration"


def capability_statement(*extensions):
    return {
        "resourceType": "CapabilityStatement",
        "rest": [{"mode": "server", "security": {"extension": list(extensions)}}],
    }


OAUTH_URIS_EXTENSION = {
    "url": OAUTH_URIS,
    "extension": [
        {"url": "authorize", "valueUri": AUTHORIZE_URL},
        {"url": "token", "valueUri": TOKEN_URL},
    ],
}


def test_discover_smart_configuration_reads_every_field(ehr, http) -> None:
    ehr.serve_discovery()
    config = discover(ISS + "/", http)
    assert config.iss == ISS
    assert config.issuer == ORIGIN
    assert (config.authorization_endpoint, config.token_endpoint) == (AUTHORIZE_URL, TOKEN_URL)
    assert config.jwks_uri == JWKS_URL
    assert config.revocation_endpoint == f"{ORIGIN}/auth/revoke"
    assert config.introspection_endpoint is None
    assert config.code_challenge_methods_supported == ("S256",)
    assert "private_key_jwt" in config.token_endpoint_auth_methods_supported
    assert config.grant_types_supported == ("authorization_code", "refresh_token")
    assert config.supports("launch-ehr")
    assert config.source == "smart-configuration"


def test_discover_sends_a_timeout(ehr) -> None:
    ehr.serve_discovery()
    seen = {}

    class Spy(requests.Session):
        def get(self, url, **kwargs):
            seen[url] = kwargs.get("timeout")
            return super().get(url, **kwargs)

    with Spy() as http:
        discover(ISS, http)
    assert seen[WELL_KNOWN] is not None


def test_discover_falls_back_to_the_capability_statement(ehr, http) -> None:
    ehr.mock.get(WELL_KNOWN, status=404)
    capabilities = {
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities",
        "valueCode": "launch-ehr",
    }
    ehr.mock.get(f"{ISS}/metadata", json=capability_statement(OAUTH_URIS_EXTENSION, capabilities))
    config = discover(ISS, http)
    assert (config.authorization_endpoint, config.token_endpoint) == (AUTHORIZE_URL, TOKEN_URL)
    assert config.source == "metadata"
    assert config.capabilities == ("launch-ehr",)
    assert config.jwks_uri is None


def test_discover_without_oauth_uris_anywhere_is_refused(ehr, http) -> None:
    ehr.mock.get(WELL_KNOWN, status=404)
    ehr.mock.get(f"{ISS}/metadata", json=capability_statement())
    with pytest.raises(LaunchError) as caught:
        discover(ISS, http)
    assert caught.value.error == "discovery_failed"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"code_challenge_methods_supported": ["plain"]}, "S256"),
        ({"code_challenge_methods_supported": []}, "S256"),
        ({"token_endpoint": None}, "token_endpoint"),
        ({"authorization_endpoint": "http://ehr.example.org/authorize"}, "authorization_endpoint"),
        ({"jwks_uri": "ftp://ehr.example.org/jwks"}, "jwks_uri"),
    ],
)
def test_discover_bad_configuration_is_refused(ehr, http, overrides, problem) -> None:
    ehr.serve_discovery(**overrides)
    with pytest.raises(LaunchError) as caught:
        discover(ISS, http)
    assert caught.value.error == "discovery_failed"
    assert problem in caught.value.message
    assert not caught.value.retryable


def test_discover_without_stated_pkce_methods_is_accepted(ehr, http) -> None:
    ehr.serve_discovery(code_challenge_methods_supported=None)
    assert discover(ISS, http).code_challenge_methods_supported == ()


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.ConnectTimeout("slow")},
        {"status": 503, "json": {}},
    ],
    ids=["timeout", "503"],
)
def test_discover_unreachable_ehr_is_retryable_without_fallback(ehr, http, failure) -> None:
    ehr.mock.get(WELL_KNOWN, **failure)
    metadata = ehr.mock.get(f"{ISS}/metadata", json=capability_statement(OAUTH_URIS_EXTENSION))
    with pytest.raises(LaunchError) as caught:
        discover(ISS, http)
    assert caught.value.retryable
    assert caught.value.status == 502
    assert metadata.call_count == 0


def test_discover_malformed_iss_is_a_launch_error(http) -> None:
    with pytest.raises(LaunchError) as caught:
        discover("javascript:alert(1)", http)
    assert caught.value.error == "invalid_issuer"


def test_discovery_cache_reuses_until_ttl_passes(ehr, http) -> None:
    ehr.serve_discovery()
    clock = [1000.0]
    cache = DiscoveryCache(ttl=timedelta(minutes=5), clock=lambda: clock[0])
    first = cache.get(ISS, http)
    clock[0] += 299
    assert cache.get(ISS + "/", http) is first
    clock[0] += 2
    assert cache.get(ISS, http) == first
    assert len(ehr.mock.calls) == 2


def test_discovery_cache_does_not_keep_failures(ehr, http) -> None:
    ehr.mock.get(WELL_KNOWN, status=500)
    cache = DiscoveryCache()
    with pytest.raises(LaunchError):
        cache.get(ISS, http)
    ehr.mock.replace(responses.GET, WELL_KNOWN, json=smart_configuration_json())
    assert cache.get(ISS, http).token_endpoint == TOKEN_URL


def test_discover_untrusted_certificate_names_the_host_and_the_setting(ehr, http) -> None:
    ehr.mock.get(WELL_KNOWN, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(LaunchError) as caught:
        discover(ISS, http)
    assert caught.value.error == "discovery_failed"
    assert "TLS certificate of ehr.example.org" in caught.value.message
    assert "set tls_ca_file for it in the issuers file" in caught.value.message
