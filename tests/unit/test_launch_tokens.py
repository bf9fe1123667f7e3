"""Token sets: context from the token response, refresh, expiry, and no token text in reprs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from launch import (
    AuthError,
    AuthMethod,
    LaunchError,
    TokenSet,
    needs_refresh,
    refresh,
)
from launch.tokens import DEFAULT_LIFETIME, refresh_margin, token_set_from_response
from tests.unit.test_launch_fake_ehr import (
    ACCESS_TOKEN,
    CLIENT_ID,
    ISS,
    NOW,
    ORIGIN,
    REFRESH_TOKEN,
    SECRET,
    form,
    id_token,
    issuer,
    other_key,
    shared_key_ring,
    smart_config,
    token_json,
)

LATER = NOW + timedelta(minutes=9)
FHIR_CONTEXT = [{"reference": "DocumentReference/d1", "role": "launch"}]


def launched(**overrides) -> TokenSet:
    response = token_json(
        intent="review", tenant="t1", fhirContext=FHIR_CONTEXT, vendor_thing=1, **overrides
    )
    claims = {"iss": ORIGIN, "sub": "practitioner-1", "fhirUser": f"{ISS}/Practitioner/p1"}
    return token_set_from_response(
        response, now=NOW, requested_scopes="launch", id_token_claims=claims
    )


def test_token_set_reads_the_launch_context() -> None:
    token_set = launched()
    assert token_set.token_type == "Bearer"
    assert token_set.expires_at == NOW + timedelta(seconds=570)
    assert token_set.scopes[0] == "launch" and "patient/Flag.cru" in token_set.scopes
    assert (token_set.patient, token_set.encounter) == ("pat-123", "enc-9")
    assert token_set.need_patient_banner is False
    assert token_set.smart_style_url == "https://ehr.example.org/smart-style.json"
    assert (token_set.intent, token_set.tenant) == ("review", "t1")
    assert token_set.fhir_context == tuple(FHIR_CONTEXT)
    assert token_set.fhir_user == f"{ISS}/Practitioner/p1"
    assert token_set.extras == {"vendor_thing": 1}


def test_token_set_defaults_when_the_ehr_is_terse() -> None:
    response = {"access_token": ACCESS_TOKEN, "token_type": "bearer"}
    token_set = token_set_from_response(response, now=NOW, requested_scopes="launch openid")
    assert token_set.need_patient_banner is True  # show the banner unless told otherwise
    assert token_set.scopes == ("launch", "openid")  # RFC 6749 5.1: omitted = as requested
    assert token_set.expires_at == NOW + DEFAULT_LIFETIME
    assert token_set.refresh_token is None and token_set.patient is None
    assert token_set.fhir_user is None and token_set.id_token_claims == {}


def test_token_set_round_trips_through_its_dict() -> None:
    token_set = launched()
    assert TokenSet.from_dict(token_set.as_dict()) == token_set


def test_no_token_text_in_reprs_or_errors() -> None:
    token_set = launched()
    text = repr(token_set) + str(token_set)
    assert ACCESS_TOKEN not in text and REFRESH_TOKEN not in text
    assert "pat-123" in text  # the context is still there to debug with
    errors = [
        AuthError("invalid_grant", "The EHR refused the sign-in."),
        LaunchError("state_mismatch", "The sign-in response does not match this launch."),
    ]
    for error in errors:
        assert error.error in str(error) and error.message in str(error)
        assert ACCESS_TOKEN not in str(error) + repr(error)


@pytest.mark.parametrize(
    ("now", "margin", "expected"),
    [
        (NOW, timedelta(seconds=60), False),
        (NOW + timedelta(seconds=509), timedelta(seconds=60), False),
        (NOW + timedelta(seconds=510), timedelta(seconds=60), True),
        (NOW + timedelta(seconds=600), timedelta(seconds=60), True),
        (NOW + timedelta(seconds=400), timedelta(minutes=3), True),
    ],
)
def test_needs_refresh_near_expiry(now, margin, expected) -> None:
    assert needs_refresh(launched(), now, margin) is expected


def test_refresh_renews_and_keeps_the_launch_context(ehr, http) -> None:
    token = ehr.serve_token(
        {"access_token": "new-at", "token_type": "Bearer", "expires_in": 300, "refresh_token": "r2"}
    )
    renewed = refresh(issuer(), smart_config(), launched(), http=http, now=LATER)
    assert form(token.calls[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
    }
    assert renewed.access_token == "new-at"
    assert renewed.refresh_token == "r2"
    assert renewed.expires_at == LATER + timedelta(seconds=300)
    assert renewed.patient == "pat-123" and renewed.encounter == "enc-9"
    assert renewed.need_patient_banner is False
    assert renewed.fhir_user == f"{ISS}/Practitioner/p1"
    assert renewed.scopes == launched().scopes
    assert renewed.fhir_context == tuple(FHIR_CONTEXT)


def test_refresh_keeps_the_old_refresh_token_when_none_is_returned(ehr, http) -> None:
    ehr.serve_token({"access_token": "new-at", "token_type": "Bearer", "expires_in": 300})
    renewed = refresh(issuer(), smart_config(), launched(), http=http, now=LATER)
    assert renewed.refresh_token == REFRESH_TOKEN


def test_refresh_with_a_confidential_client_authenticates(ehr, http) -> None:
    token = ehr.serve_token({"access_token": "a", "token_type": "Bearer"})
    config = issuer(auth_method=AuthMethod.CLIENT_SECRET_BASIC, client_secret_env="S")
    refresh(config, smart_config(), launched(), http=http, now=LATER, client_secret=SECRET)
    assert token.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_refresh_with_private_key_jwt_sends_an_assertion(ehr, http) -> None:
    token = ehr.serve_token({"access_token": "a", "token_type": "Bearer"})
    config = issuer(auth_method=AuthMethod.PRIVATE_KEY_JWT, signing_alg="ES384")
    refresh(config, smart_config(), launched(), http=http, now=LATER, key_ring=shared_key_ring())
    assert "client_assertion" in form(token.calls[0])


def test_refresh_validates_a_new_id_token(ehr, http) -> None:
    ehr.serve_token(token_json(id_token=id_token(nonce=None, now=LATER, fhirUser="Practitioner/2")))
    ehr.serve_jwks()
    renewed = refresh(issuer(), smart_config(), launched(), http=http, now=LATER)
    assert renewed.fhir_user == "Practitioner/2"


def test_refresh_refused_is_an_auth_error(ehr, http) -> None:
    ehr.serve_token({"error": "invalid_grant", "error_description": "revoked"}, status=400)
    with pytest.raises(AuthError) as caught:
        refresh(issuer(), smart_config(), launched(), http=http, now=LATER)
    assert (caught.value.error, caught.value.status) == ("invalid_grant", 401)
    assert REFRESH_TOKEN not in str(caught.value) + repr(caught.value)


def test_refresh_without_a_refresh_token_is_an_auth_error(http) -> None:
    with pytest.raises(AuthError) as caught:
        refresh(issuer(), smart_config(), launched(refresh_token=None), http=http, now=LATER)
    assert caught.value.error == "no_refresh_token"


@pytest.mark.parametrize(
    "overrides",
    [
        {"fhirContext": {"reference": "x"}},
        {"need_patient_banner": "yes", "encounter": "a/b"},
        {"smart_style_url": 5},
        {"expires_in": -1},
    ],
)
def test_malformed_context_is_refused(overrides) -> None:
    with pytest.raises(AuthError) as caught:
        token_set_from_response(token_json(**overrides), now=NOW, requested_scopes="launch")
    assert caught.value.error == "invalid_token_response"


@pytest.mark.parametrize(
    ("lifetime_s", "margin_s"), [(60, 6), (300, 30), (600, 60), (3600, 60), (5, 0.5)]
)
def test_refresh_margin_is_a_tenth_of_the_lifetime_at_most_a_minute(lifetime_s, margin_s) -> None:
    token_set = launched(expires_in=lifetime_s)
    assert refresh_margin(token_set) == timedelta(seconds=margin_s)
    assert not needs_refresh(token_set, NOW + timedelta(seconds=lifetime_s - margin_s - 0.1))
    assert needs_refresh(token_set, NOW + timedelta(seconds=lifetime_s - margin_s))


def test_a_sixty_second_token_is_not_refreshed_as_soon_as_it_arrives() -> None:
    token_set = launched(expires_in=60)
    assert not needs_refresh(token_set, NOW + timedelta(seconds=2))
    stored = TokenSet.from_dict(token_set.as_dict())
    assert stored.issued_at == NOW and refresh_margin(stored) == timedelta(seconds=6)


def test_a_token_set_stored_without_its_issue_time_refreshes_a_minute_ahead() -> None:
    data = launched(expires_in=60).as_dict()
    del data["issued_at"]
    assert refresh_margin(TokenSet.from_dict(data)) == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": None}, "aud"),
        ({"aud": "another-app"}, "aud"),
        ({"exp": int((LATER - timedelta(hours=1)).timestamp())}, "exp"),
    ],
)
def test_refresh_with_an_unusable_id_token_keeps_the_original_identity(
    ehr, http, claims, reason
) -> None:
    new_id_token = id_token(nonce=None, now=LATER, fhirUser="Practitioner/2", **claims)
    ehr.serve_token(token_json(access_token="new-at", id_token=new_id_token))
    ehr.serve_jwks()
    ignored: list[str] = []
    renewed = refresh(
        issuer(), smart_config(), launched(), http=http, now=LATER,
        on_ignored_id_token=ignored.append,
    )  # fmt: skip
    assert renewed.access_token == "new-at"  # the EHR accepted the refresh: the session goes on
    assert renewed.fhir_user == f"{ISS}/Practitioner/p1"
    assert renewed.id_token_claims == launched().id_token_claims
    assert len(ignored) == 1 and reason in ignored[0]
    assert new_id_token not in ignored[0] and "new-at" not in ignored[0]


def test_refresh_with_a_badly_signed_id_token_keeps_the_original_identity(ehr, http) -> None:
    forged = id_token(nonce=None, now=LATER, key=other_key(), sub="someone-else")
    ehr.serve_token(token_json(id_token=forged))
    ehr.serve_jwks()
    ignored: list[str] = []
    renewed = refresh(
        issuer(), smart_config(), launched(), http=http, now=LATER,
        on_ignored_id_token=ignored.append,
    )  # fmt: skip
    assert renewed.id_token_claims == launched().id_token_claims
    assert ignored and "signature" in ignored[0]


@pytest.mark.parametrize("claims", [{"sub": "practitioner-2"}, {"iss": "https://other.example"}])
def test_refresh_naming_another_sign_in_ends_the_session(ehr, http, claims) -> None:
    ehr.serve_token(token_json(id_token=id_token(nonce=None, now=LATER, **claims)))
    ehr.serve_jwks()
    with pytest.raises(AuthError) as caught:
        refresh(issuer(), smart_config(), launched(), http=http, now=LATER)
    assert caught.value.error == "identity_changed"


def test_refresh_of_a_sign_in_without_identity_takes_a_valid_id_token(ehr, http) -> None:
    anonymous = token_set_from_response(token_json(), now=NOW, requested_scopes="launch")
    ehr.serve_token(token_json(id_token=id_token(nonce=None, now=LATER)))
    ehr.serve_jwks()
    renewed = refresh(issuer(), smart_config(), anonymous, http=http, now=LATER)
    assert renewed.id_token_claims["sub"] == "practitioner-1"
    assert renewed.fhir_user == f"{ISS}/Practitioner/practitioner-1"


def test_refresh_with_an_id_token_without_sub_keeps_the_original_identity(ehr, http) -> None:
    ehr.serve_token(token_json(id_token=id_token(nonce=None, now=LATER, sub=None)))
    ehr.serve_jwks()
    ignored: list[str] = []
    renewed = refresh(
        issuer(),
        smart_config(),
        launched(),
        http=http,
        now=LATER,
        on_ignored_id_token=ignored.append,
    )
    assert renewed.id_token_claims == launched().id_token_claims
    assert len(ignored) == 1 and "sub" in ignored[0]
