"""A small SMART client for the integration tests: launches, PKCE, authorize, token, FHIR calls."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from sandbox.run import Sandbox

REDIRECT_URI = "https://localhost:8443/callback"
APP_CLIENT = "clozapine-smartapp"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


@dataclass(frozen=True)
class Authorization:
    """The authorize step's answer, and what the token exchange needs from it."""

    response: requests.Response
    pkce: Pkce
    state: str
    client_id: str

    @property
    def redirect(self) -> dict[str, str]:
        query = parse_qs(urlsplit(self.response.headers["Location"]).query)
        return {name: values[0] for name, values in query.items()}


class SmartClient:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.config = sandbox.config
        self.origin = sandbox.config.origin
        self.iss = sandbox.config.fhir_base
        self.session = requests.Session()
        # A session's own `verify` loses to REQUESTS_CA_BUNDLE unless the environment is ignored.
        self.session.trust_env = False
        self.session.verify = str(sandbox.ca_path)
        manifest = json.loads(sandbox.manifest_path.read_text())
        self.patients = [entry["id"] for entry in manifest["patients"]]

    # -- test control --
    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.origin}/_sandbox/{path}", **kwargs)
        assert response.status_code < 300, response.text
        return response

    def reset(self) -> None:
        self.control("POST", "reset")

    def fault(self, **fault: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.control("POST", "faults", json=fault).json()
        return created

    def launch(self, patient: str | None = None, **binding: Any) -> str:
        body = {"patient": patient or self.patients[0], **binding}
        return str(self.control("POST", "launches", json=body).json()["launch"])

    def register(self, scope: str, method: str = "none", **extra: Any) -> str:
        """A fresh client of its own, so its faults and vendor touch no other test."""
        client_id = f"test-{uuid.uuid4().hex[:12]}"
        body = {
            "client_id": client_id,
            "token_endpoint_auth_method": method,
            "redirect_uris": [REDIRECT_URI],
            "scope": scope.split(),
            **extra,
        }
        self.control("POST", "clients", json=body)
        return client_id

    # -- authorization --
    def authorize(
        self,
        client_id: str = APP_CLIENT,
        scope: str = "launch openid fhirUser offline_access patient/*.rs",
        *,
        launch: str | None = None,
        pkce: Pkce | None = None,
        **overrides: str | None,
    ) -> Authorization:
        pkce = pkce or Pkce.new()
        state = secrets.token_urlsafe(12)
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": state,
            "aud": self.iss,
            "launch": launch,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        query = urlencode({k: v for k, v in params.items() if v is not None})
        response = self.session.get(
            f"{self.origin}/auth/authorize?{query}", allow_redirects=False, timeout=10
        )
        return Authorization(response, pkce, state, client_id)

    def token(self, data: dict[str, str], **kwargs: Any) -> requests.Response:
        return self.session.post(f"{self.origin}/auth/token", data=data, timeout=10, **kwargs)

    def exchange(
        self, authorization: Authorization, *, verifier: str | None = None, **auth: Any
    ) -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": authorization.redirect["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier or authorization.pkce.verifier,
        }
        if "auth" not in auth and "client_assertion" not in auth:
            data["client_id"] = authorization.client_id
        if "client_assertion" in auth:
            data["client_assertion_type"] = ASSERTION_TYPE
            data["client_assertion"] = auth.pop("client_assertion")
        return self.token(data, **auth)

    def ehr_launch(
        self,
        client_id: str = APP_CLIENT,
        scope: str = "launch openid fhirUser offline_access patient/*.rs",
        patient: str | None = None,
        **binding: Any,
    ) -> dict[str, Any]:
        """A full EHR launch; the token response."""
        launch = self.launch(patient, client_id=client_id, **binding)
        authorization = self.authorize(client_id, scope, launch=launch)
        assert authorization.response.status_code == 302, authorization.response.text
        response = self.exchange(authorization)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def refresh(self, refresh_token: str, client_id: str = APP_CLIENT) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token({**data, "client_id": client_id})

    # -- FHIR --
    def fhir(self, method: str, path: str, token: str | None, **kwargs: Any) -> requests.Response:
        headers = {"Accept": "application/fhir+json", **kwargs.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, f"{self.iss}/{path}", headers=headers, **kwargs)


def client_assertion(
    key: RSAKey | ECKey,
    client_id: str,
    audience: str,
    *,
    alg: str,
    lifetime_s: int = 240,
    jti: str | None = None,
    issued_at: float | None = None,
) -> str:
    """A private_key_jwt client assertion as SMART's asymmetric client auth profiles it."""
    now = int(issued_at if issued_at is not None else time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": now + lifetime_s,
        "jti": jti or secrets.token_urlsafe(16),
    }
    header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[alg])


def new_key(alg: str) -> RSAKey | ECKey:
    """A signing key made for the test (never stored); its kid set from its thumbprint."""
    key: RSAKey | ECKey
    if alg == "RS384":
        key = RSAKey.generate_key(2048, parameters={"alg": alg, "use": "sig"})
    else:
        key = ECKey.generate_key("P-384", parameters={"alg": alg, "use": "sig"})
    key.ensure_kid()
    return key


def public_jwks(key: RSAKey | ECKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False)]}
