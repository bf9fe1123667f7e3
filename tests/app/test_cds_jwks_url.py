"""A CDS client whose JWKS is published at a URL: read once, read again for a new kid, and a JWKS
that cannot be read refuses the request (401), never lets it through."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import responses

from smartapp.cds.trust import JWKS_REFETCH_S
from tests.app_helpers import ISSUER_TOML, app_settings
from tests.cds_client import CdsClient
from tests.cds_requests import hook_request
from tests.unit.test_cds_cards import OVERDUE, bundle

JWKS_URL = "https://ehr.example.org/cds/jwks.json"
PATH = "/cds-services/clozapine-anc-patient-view"
AUD = "https://app.example.org" + PATH
CLIENT = CdsClient(kid="old-key")
ROTATED = CdsClient(kid="new-key")


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, str]:
    lines = f'cds_client_iss = "{CLIENT.iss}"\ncds_jwks_url = "{JWKS_URL}"\n'
    return app_settings(tmp_path, ISSUER_TOML + lines)


def post(client, cds: CdsClient):
    return client.post(PATH, json=hook_request(bundle(*OVERDUE)), headers=cds.headers(AUD))


@responses.activate
def test_cds_jwks_url_is_read_once_and_cached(client) -> None:
    responses.get(JWKS_URL, json=CLIENT.jwks())
    assert post(client, CLIENT).status_code == 200
    assert post(client, CLIENT).status_code == 200
    assert len(responses.calls) == 1


@responses.activate
def test_cds_jwks_url_is_read_again_for_a_new_kid_after_the_minimum_wait(client, app) -> None:
    responses.get(JWKS_URL, json=CLIENT.jwks())
    assert post(client, CLIENT).status_code == 200
    responses.replace(
        responses.GET, JWKS_URL, json={"keys": [*CLIENT.jwks()["keys"], ROTATED.public_jwk()]}
    )
    # Within the minimum wait a new kid does not make the app read the JWKS again.
    assert post(client, ROTATED).status_code == 401
    keys = app.extensions["smartapp.cds"].verifier.key_sets
    keys._clock = lambda: time.monotonic() + JWKS_REFETCH_S + 1
    assert post(client, ROTATED).status_code == 200
    assert len(responses.calls) == 2


@responses.activate
def test_cds_jwks_url_that_cannot_be_read_refuses_with_401(client) -> None:
    responses.get(JWKS_URL, status=503)
    response = post(client, CLIENT)
    assert response.status_code == 401
    assert "JWKS could not be read" in response.get_json()["reason"]
