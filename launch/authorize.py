"""The authorization code flow: the authorize redirect (PKCE S256, state, nonce) and the callback.

SMART App Launch 2.2, "App Launch: Launch and Authorization"
(https://hl7.org/fhir/smart-app-launch/app-launch.html): the authorize request carries
response_type=code, client_id, redirect_uri, launch (EHR launch), scope, state, aud (the FHIR
base URL) and code_challenge with code_challenge_method=S256.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.common.security import generate_token

from launch.discovery import SmartConfiguration
from launch.errors import AuthError, ConfigurationError, LaunchError, error_code
from launch.fetch import DEFAULT_TIMEOUT
from launch.id_token import validate_id_token
from launch.issuers import IssuerConfig
from launch.keys import KeyRing
from launch.oauth import authorization_client, described, oauth_client, token_request
from launch.scopes import split_scopes
from launch.tokens import TokenSet, token_set_from_response
from launch.urls import is_secure_url, normalise_iss

__all__ = [
    "DEFAULT_PENDING_MAX_AGE",
    "PendingLaunch",
    "authorization_error",
    "begin_launch",
    "complete_launch",
    "requested_scopes",
]

# How long the user may take between the redirect to the EHR and the callback.
DEFAULT_PENDING_MAX_AGE = timedelta(minutes=10)
# Printable ASCII without spaces: what an opaque `launch` or `code` value may contain. Codes
# run long (a real one was 2,087 characters; some EHRs put a signed grant in them): up to 8 KB.
_OPAQUE = re.compile(r"^[\x21-\x7e]{1,2048}$")
_CODE = re.compile(r"^[\x21-\x7e]{1,8192}$")


@dataclass(frozen=True, slots=True)
class PendingLaunch:
    """What the callback needs, kept server-side keyed by `state` until the callback uses it."""

    state: str = field(repr=False)
    code_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    iss: str
    redirect_uri: str
    created_at: datetime
    # The scopes asked for; used only when the token response leaves `scope` out.
    scope: str = ""
    # The EHR's `launch` value (None for a standalone launch), kept as the EHR sent it.
    launch: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """A JSON-ready dict for the app's store (it holds the PKCE verifier: keep it server-side)."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingLaunch:
        """Rebuild a PendingLaunch from `as_dict` output."""
        return cls(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


def _launch_scopes(
    issuer: IssuerConfig,
    launch: str | None,
    extra: str | Iterable[str],
    base: str | None = None,
) -> str:
    scopes = list(split_scopes([base or issuer.scopes, *split_scopes(extra)]))
    if launch is None:  # standalone launch: ask the EHR to pick a patient instead
        scopes = ["launch/patient" if s == "launch" else s for s in scopes]
    elif "launch" not in scopes:
        scopes.insert(0, "launch")
    return " ".join(dict.fromkeys(scopes))


def requested_scopes(
    issuer: IssuerConfig, *, standalone: bool = False, scopes: str | None = None
) -> str:
    """The scopes the authorize request asks `issuer` for: EHR launch, or standalone
    (`scopes`: a launch profile's instead of the issuer's)."""
    return _launch_scopes(issuer, None if standalone else "ehr-launch", (), scopes)


def begin_launch(
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    *,
    redirect_uri: str,
    aud: str,
    now: datetime,
    launch: str | None = None,
    extra_scopes: str | Iterable[str] | None = None,
    scopes: str | None = None,
) -> tuple[str, PendingLaunch]:
    """The EHR's authorize URL to redirect to, and the PendingLaunch to keep until the callback.

    `aud` is the `iss` the EHR sent, as sent; `launch` is the EHR's launch value (None for a
    standalone launch, which asks for `launch/patient` instead of `launch`). `scopes` replaces
    the issuer's scopes (a launch profile's, e.g. the patient-facing view's).
    """
    if smart_config.iss != issuer.iss:
        raise LaunchError("issuer_mismatch", "The launch's configuration is for another EHR.")
    try:
        if normalise_iss(aud) != issuer.iss:
            raise ValueError(aud)
    except ValueError:
        raise LaunchError("invalid_aud", "The launch's audience is not this EHR.") from None
    if launch is not None and not _OPAQUE.match(launch):
        raise LaunchError("invalid_launch", "The EHR's launch parameter is malformed.")
    if not is_secure_url(redirect_uri):
        raise ConfigurationError("invalid_redirect_uri", "redirect_uri must be an https URL")
    pending = PendingLaunch(
        state=generate_token(43),  # 43 characters of 62: ~256 bits
        code_verifier=generate_token(64),  # RFC 7636: 43-128 unreserved characters
        nonce=generate_token(32),
        iss=issuer.iss,
        redirect_uri=redirect_uri,
        scope=_launch_scopes(issuer, launch, extra_scopes or (), scopes),
        created_at=now,
        launch=launch,
    )
    url, _ = authorization_client(issuer).create_authorization_url(
        smart_config.authorization_endpoint,
        state=pending.state,
        code_verifier=pending.code_verifier,
        redirect_uri=redirect_uri,
        scope=pending.scope,
        aud=aud,
        launch=launch,
        nonce=pending.nonce,
    )
    return str(url), pending


def authorization_error(params: Mapping[str, str]) -> AuthError | None:
    """The AuthError for a callback carrying `error=` (e.g. the user declined), else None."""
    if "error" not in params:
        return None
    code = error_code(params["error"], "authorization_failed")
    status = 403 if code == "access_denied" else 401
    said = described(params.get("error_description"), (params.get("state"),))
    return AuthError(code, f"The EHR did not authorize the app{said}.", status=status)


def complete_launch(
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    pending: PendingLaunch,
    *,
    code: str,
    returned_state: str,
    http: requests.Session,
    now: datetime,
    key_ring: KeyRing | None = None,
    client_secret: str | None = None,
    max_age: timedelta = DEFAULT_PENDING_MAX_AGE,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> TokenSet:
    """Check the callback's state, exchange the code, validate any id_token: the TokenSet.

    The app must remove `pending` from its store before calling, so a replayed callback finds
    nothing (LaunchError `state_unknown` is the app's to raise then).
    """
    if not hmac.compare_digest(pending.state.encode(), returned_state.encode()):
        raise LaunchError("state_mismatch", "The sign-in response does not match this launch.")
    if not (pending.iss == smart_config.iss == issuer.iss):
        raise LaunchError("issuer_mismatch", "The sign-in response is for another EHR.")
    age = now - pending.created_at
    if age > max_age or age < -timedelta(minutes=1):
        raise LaunchError("state_expired", "The sign-in took too long; open the app again.")
    if not _CODE.match(code):
        raise LaunchError("invalid_callback", "The sign-in response is malformed.")
    client = oauth_client(
        issuer, smart_config, http=http, now=now, client_secret=client_secret, key_ring=key_ring
    )
    response = token_request(
        lambda: client.fetch_token(
            smart_config.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=pending.code_verifier,
            redirect_uri=pending.redirect_uri,
            timeout=timeout,
            allow_redirects=False,  # the code and verifier go to the token endpoint only
        ),
        "sign-in",
        (code, pending.code_verifier),
    )
    claims: dict[str, Any] = {}
    if isinstance(response.get("id_token"), str):
        claims = validate_id_token(
            response["id_token"],
            issuer=issuer,
            smart_config=smart_config,
            http=http,
            now=now,
            nonce=pending.nonce,
            access_token=response.get("access_token"),
            timeout=timeout,
        )
    return token_set_from_response(
        response, now=now, requested_scopes=pending.scope, id_token_claims=claims
    )
