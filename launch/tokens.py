"""The token set of a launch: access and refresh tokens, granted scopes, launch context; refresh.

Token response fields: SMART App Launch 2.2, "App Launch: Launch and Authorization", step
"Obtain access token" (https://hl7.org/fhir/smart-app-launch/app-launch.html#obtain-access-token)
and "Scopes and Launch Context" for `patient`, `encounter`, `fhirContext`, `need_patient_banner`,
`smart_style_url`, `intent` and `tenant`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import requests

from launch.discovery import SmartConfiguration
from launch.errors import AuthError
from launch.fetch import DEFAULT_TIMEOUT
from launch.issuers import IssuerConfig
from launch.keys import KeyRing
from launch.oauth import oauth_client, token_request
from launch.refreshed_identity import renewed_identity
from launch.scopes import scopes_grant, split_scopes

__all__ = [
    "TokenSet",
    "granted",
    "needs_refresh",
    "refresh",
    "refresh_margin",
    "token_set_from_response",
]

# Lifetime assumed when the EHR leaves out expires_in: short, so the app refreshes rather than
# sending a token the EHR has already expired.
DEFAULT_LIFETIME = timedelta(minutes=5)
# Refresh this fraction of a token's lifetime before it expires, at most MAX_REFRESH_MARGIN
# ahead: a 60-second token is refreshed 6 seconds before its end, not as soon as it arrives.
REFRESH_MARGIN_FRACTION = 10
MAX_REFRESH_MARGIN = timedelta(seconds=60)
# FHIR id datatype: what `patient` and `encounter` must look like before they go into URLs.
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# Fields of the token response that are not launch context.
_TOKEN_FIELDS = frozenset(
    {"access_token", "token_type", "expires_in", "expires_at", "scope", "refresh_token", "id_token"}
)
_CONTEXT_FIELDS = frozenset(
    {"patient", "encounter", "need_patient_banner", "smart_style_url", "intent", "tenant"}
    | {"fhirContext"}
)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a launch was granted. Tokens stay out of repr; `as_dict` (for storage) has them.

    `issued_at` is when the access token was received (None in token sets stored before it
    was kept), so its lifetime is `expires_at - issued_at`.
    """

    access_token: str = field(repr=False)
    token_type: str
    expires_at: datetime
    scopes: tuple[str, ...]
    refresh_token: str | None = field(default=None, repr=False)
    patient: str | None = None
    encounter: str | None = None
    need_patient_banner: bool = True
    smart_style_url: str | None = None
    fhir_user: str | None = None
    id_token_claims: dict[str, Any] = field(default_factory=dict, repr=False)
    intent: str | None = None
    tenant: str | None = None
    fhir_context: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    extras: dict[str, Any] = field(default_factory=dict, repr=False)
    issued_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for the server-side session store (it holds the tokens: keep it there)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["expires_at"] = self.expires_at.isoformat()
        data["issued_at"] = self.issued_at.isoformat() if self.issued_at else None
        data["scopes"] = list(self.scopes)
        data["fhir_context"] = list(self.fhir_context)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        """Rebuild a TokenSet from `as_dict` output."""
        values = dict(data)
        values["expires_at"] = datetime.fromisoformat(values["expires_at"])
        issued = values.get("issued_at")
        values["issued_at"] = datetime.fromisoformat(issued) if issued else None
        values["scopes"] = tuple(values["scopes"])
        values["fhir_context"] = tuple(values.get("fhir_context", ()))
        return cls(**values)


def _invalid(problem: str) -> AuthError:
    return AuthError(
        "invalid_token_response", f"The EHR's token response was not valid: {problem}."
    )


def _optional_str(response: Mapping[str, Any], name: str) -> str | None:
    value = response.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _invalid(f"{name} is not a string")
    return value


def _fhir_id(response: Mapping[str, Any], name: str) -> str | None:
    value = _optional_str(response, name)
    if value is not None and not _FHIR_ID.match(value):
        raise _invalid(f"{name} is not a FHIR id")
    return value


def _expires_at(response: Mapping[str, Any], now: datetime) -> datetime:
    value = response.get("expires_in")
    if value is None:
        return now + DEFAULT_LIFETIME
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise _invalid("expires_in is not a number") from None
    if seconds <= 0 or isinstance(value, bool):
        raise _invalid("expires_in is not positive")
    return now + timedelta(seconds=seconds)


def _fhir_context(response: Mapping[str, Any]) -> tuple[dict[str, Any], ...] | None:
    value = response.get("fhirContext")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid("fhirContext is not a list of objects")
    return tuple(value)


def token_set_from_response(
    response: Mapping[str, Any],
    *,
    now: datetime,
    requested_scopes: str | Iterable[str],
    id_token_claims: dict[str, Any] | None = None,
    previous: TokenSet | None = None,
) -> TokenSet:
    """A TokenSet from a token endpoint response; context absent from a refresh is kept."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    access_token = response.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise _invalid("no access_token")
    token_type = response.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise AuthError("unsupported_token_type", "The EHR issued a token type the app cannot use.")
    scope = response.get("scope")
    scopes = split_scopes(scope) if isinstance(scope, str) else split_scopes(requested_scopes)
    claims = id_token_claims if id_token_claims is not None else {}
    banner = response.get("need_patient_banner")
    fhir_user = claims.get("fhirUser") or claims.get("profile")  # `profile`: SMART v1 name
    new: dict[str, Any] = {
        "patient": _fhir_id(response, "patient"),
        "encounter": _fhir_id(response, "encounter"),
        "smart_style_url": _optional_str(response, "smart_style_url"),
        "intent": _optional_str(response, "intent"),
        "tenant": _optional_str(response, "tenant"),
        "fhir_context": _fhir_context(response),
        "need_patient_banner": banner if isinstance(banner, bool) else None,
        "refresh_token": _optional_str(response, "refresh_token"),
        "fhir_user": fhir_user if isinstance(fhir_user, str) else None,
        "id_token_claims": claims or None,
    }
    if previous is not None:  # a refresh response: keep what it does not repeat
        new = {k: v if v is not None else getattr(previous, k) for k, v in new.items()}
    extras = {k: v for k, v in response.items() if k not in _TOKEN_FIELDS | _CONTEXT_FIELDS}
    return TokenSet(
        access_token=access_token,
        token_type="Bearer",  # noqa: S106  # the scheme name, normalised
        expires_at=_expires_at(response, now),
        issued_at=now,
        scopes=scopes,
        extras={**(previous.extras if previous else {}), **extras},
        **{k: v for k, v in new.items() if v is not None},
    )


def refresh_margin(token_set: TokenSet) -> timedelta:
    """How long before expiry to refresh: a tenth of the token's lifetime, at most a minute
    (a minute when the lifetime is not known)."""
    if token_set.issued_at is None:
        return MAX_REFRESH_MARGIN
    lifetime = max(token_set.expires_at - token_set.issued_at, timedelta(0))
    return min(lifetime / REFRESH_MARGIN_FRACTION, MAX_REFRESH_MARGIN)


def needs_refresh(token_set: TokenSet, now: datetime, margin: timedelta | None = None) -> bool:
    """Whether the access token expires within `margin` (default: `refresh_margin`) of `now`
    (or already has)."""
    ahead = refresh_margin(token_set) if margin is None else margin
    return now >= token_set.expires_at - ahead


def granted(token_set: TokenSet, resource: str, interaction: str) -> bool:
    """Whether the granted v1 or v2 scopes allow `interaction` (c r u d s) on `resource`."""
    return scopes_grant(token_set.scopes, resource, interaction)


def refresh(
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    token_set: TokenSet,
    *,
    http: requests.Session,
    key_ring: KeyRing | None = None,
    now: datetime,
    client_secret: str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    on_ignored_id_token: Callable[[str], None] | None = None,
) -> TokenSet:
    """A renewed TokenSet via the refresh token; AuthError when there is none, it is refused,
    or the refreshed id_token names another sign-in (`identity_changed`).

    The old refresh token is kept when the EHR does not send a new one, and launch context
    (patient, encounter, fhirUser) carries over. A refreshed id_token that cannot be used is
    ignored (the original identity kept) and its reason given to `on_ignored_id_token`.
    """
    if not token_set.refresh_token:
        raise AuthError(
            "no_refresh_token", "The session has expired; open the app from the EHR again."
        )
    client = oauth_client(
        issuer, smart_config, http=http, now=now, client_secret=client_secret, key_ring=key_ring
    )
    response = token_request(
        lambda: client.refresh_token(
            smart_config.token_endpoint,
            refresh_token=token_set.refresh_token,
            timeout=timeout,
            allow_redirects=False,  # the refresh token goes to the token endpoint only
        ),
        "session renewal",
        (token_set.refresh_token,),
    )
    claims = token_set.id_token_claims
    if isinstance(response.get("id_token"), str):
        renewed = renewed_identity(
            response["id_token"],
            original=claims,
            issuer=issuer,
            smart_config=smart_config,
            http=http,
            now=now,
            access_token=response.get("access_token"),
            timeout=timeout,
        )
        claims = renewed.claims
        if renewed.ignored is not None and on_ignored_id_token is not None:
            on_ignored_id_token(renewed.ignored)
    return token_set_from_response(
        response,
        now=now,
        requested_scopes=token_set.scopes,
        id_token_claims=claims,
        previous=token_set,
    )
