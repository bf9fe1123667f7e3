"""Authlib's OAuth 2 client set up per issuer: client authentication, token calls, error mapping.

Client authentication (SMART App Launch 2.2): public clients send `client_id` with PKCE;
confidential-symmetric clients send a secret (Basic header or form body); confidential-asymmetric
clients send an RS384/ES384 `client_assertion` (https://hl7.org/fhir/smart-app-launch/
client-confidential-asymmetric.html): iss = sub = client_id, aud = token endpoint, exp at most
five minutes ahead, a fresh jti, and the signing key's `kid` in the header.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuthError
from authlib.integrations.requests_client.oauth2_session import OAuth2ClientAuth, OAuth2Session
from authlib.oauth2.client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from launch.discovery import SmartConfiguration
from launch.errors import AuthError, ConfigurationError, error_code, quoted_text
from launch.fetch import tls_problem
from launch.issuers import SECRET_METHODS, AuthMethod, IssuerConfig
from launch.keys import KeyRing
from launch.token_answers import TokenEndpointBusy, TokenEndpointRedirected, answer_check

__all__ = [
    "ASSERTION_LIFETIME",
    "authorization_client",
    "described",
    "oauth_client",
    "token_request",
]

# SMART: the assertion's exp SHALL be no more than five minutes in the future; keep a margin.
ASSERTION_LIFETIME = timedelta(minutes=4)


class _TokenClient(OAuth2Client):  # type: ignore[misc]  # Authlib is untyped
    """Authlib's OAuth 2 client over the caller's requests.Session (its CA bundle, adapters).

    The same parts Authlib's requests OAuth2Session uses, but the transport stays the app's
    session, so the EHR's CA bundle (`verify=`) and pooled connections serve every token call.
    Token calls are not retried: a code is single-use and a refresh token may rotate.
    """

    client_auth_class = OAuth2ClientAuth
    oauth_error_class = OAuthError
    SESSION_REQUEST_PARAMS = OAuth2Session.SESSION_REQUEST_PARAMS


def authorization_client(issuer: IssuerConfig) -> Any:
    """An Authlib OAuth2Client that builds authorize URLs with PKCE S256 (it makes no requests)."""
    return _TokenClient(session=None, client_id=issuer.client_id, code_challenge_method="S256")


def oauth_client(
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    *,
    http: requests.Session | None,
    now: datetime,
    client_secret: str | None = None,
    key_ring: KeyRing | None = None,
) -> Any:
    """An Authlib OAuth2Client for `issuer`, authenticating at the token endpoint as configured."""
    method = issuer.auth_method
    secret: Any = None
    if method in SECRET_METHODS:
        if not client_secret:
            raise ConfigurationError(
                "missing_client_secret", f"issuer {issuer.name!r} needs its client secret"
            )
        secret = client_secret
    elif method is AuthMethod.PRIVATE_KEY_JWT:
        if key_ring is None:
            raise ConfigurationError(
                "missing_key_ring", f"issuer {issuer.name!r} uses private_key_jwt: give a KeyRing"
            )
        signing = key_ring.signing_key(str(issuer.signing_alg))
        secret = signing.key
    client = _TokenClient(
        session=http,
        client_id=issuer.client_id,
        client_secret=secret,
        token_endpoint_auth_method=method.value,
        code_challenge_method="S256",
    )
    # Redirects and 429s are answered before Authlib reads the body as a token or an error.
    check = answer_check(smart_config.token_endpoint, now)
    client.register_compliance_hook("access_token_response", check)
    client.register_compliance_hook("refresh_token_response", check)
    if method is AuthMethod.PRIVATE_KEY_JWT:
        issued_at = int(now.timestamp())
        claims = {
            "iat": issued_at,
            "exp": issued_at + int(ASSERTION_LIFETIME.total_seconds()),
            "jti": generate_token(43),  # ~256 bits; new per client, and a client per request
        }
        client.register_client_auth_method(
            PrivateKeyJWT(
                smart_config.token_endpoint,
                claims=claims,
                headers={"kid": signing.kid},
                alg=signing.alg,
            )
        )
    return client


def token_request(
    call: Callable[[], Any], what: str, secrets: tuple[str | None, ...] = ()
) -> dict[str, Any]:
    """Run an Authlib token call; its failures become AuthError without any token text.

    The EHR's `error_description` is quoted (shortened, with any of `secrets` it echoes, such
    as the code or the refresh token, taken out), since it is often the only clue to a fix.
    """
    try:
        token = call()
    except TokenEndpointRedirected as redirect:
        raise AuthError(
            "token_endpoint_redirect", f"The {what} failed: {redirect.reason}.", status=502
        ) from None
    except TokenEndpointBusy as busy:
        wait = f"in {busy.wait_s} seconds" if busy.wait_s else "in a moment"
        raise AuthError(
            "token_endpoint_busy",
            f"The EHR is busy and could not complete the {what}; try again {wait}.",
            retryable=True,
            status=503,
            retry_after_s=busy.wait_s,
        ) from None
    except OAuthError as error:
        code = error_code(error.error, "token_refused")
        status = 403 if code in ("access_denied", "insufficient_scope") else 401
        said = described(error.description, secrets)
        raise AuthError(code, f"The EHR refused the {what}{said}.", status=status) from None
    except requests.exceptions.SSLError as error:
        url = error.request.url if error.request is not None else None
        raise AuthError(
            "tls_untrusted", f"The {what} failed: {tls_problem(url)}.", status=502
        ) from None
    except (requests.Timeout, requests.ConnectionError):
        raise AuthError(
            "token_endpoint_unreachable",
            f"The EHR did not answer the {what}; try again.",
            retryable=True,
            status=502,
        ) from None
    except requests.RequestException as error:
        answered = error.response.status_code if error.response is not None else None
        raise AuthError(
            "token_endpoint_error",
            f"The EHR failed the {what} (HTTP {answered}).",
            retryable=answered is None or answered >= 500,
            status=502,
        ) from None
    except (ValueError, TypeError, KeyError):
        raise AuthError(
            "invalid_token_response", f"The EHR's answer to the {what} was not valid."
        ) from None
    return dict(token)


def described(description: object, secrets: tuple[str | None, ...] = ()) -> str:
    """`: "<the EHR's error_description>"` fit to show and log, or "" when it sent none."""
    text = description if isinstance(description, str) else None
    for secret in secrets:
        if text and secret:
            text = text.replace(secret, "[redacted]")
    quoted = quoted_text(text)
    return f': "{quoted}"' if quoted else ""
