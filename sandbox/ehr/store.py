"""In-memory EHR state: launches, authorization codes, tokens, used assertion ids (sandbox only)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

AUTHORIZATION_CODE_LIFETIME_S = 120
ONLINE_REFRESH_LIFETIME_S = 8 * 3600
PICK_LIFETIME_S = 600


@dataclass(frozen=True, slots=True)
class User:
    """The signed-in EHR user, no password asked: a practitioner from the chart, or a patient or
    a caregiver (RelatedPerson) from the patient portal."""

    user_id: str
    resource_type: str = "Practitioner"

    def get_user_id(self) -> str:
        return self.user_id

    @property
    def reference(self) -> str:
        """The user as a relative reference (`Practitioner/x`, `Patient/x`, `RelatedPerson/x`)."""
        return f"{self.resource_type}/{self.user_id}"


@dataclass(frozen=True, slots=True)
class Launch:
    """An opaque EHR `launch` value and the context it stands for."""

    launch_id: str
    patient: str
    practitioner: str
    encounter: str | None = None
    client_id: str | None = None
    vendor: str | None = None
    need_patient_banner: bool = False
    smart_style_url: str | None = None
    expires_at: float = 0.0
    # A portal launch signs in the patient or a caregiver (`Patient/x`, `RelatedPerson/y`).
    portal_user: str | None = None


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """What a grant carries from the authorization to every token issued under it."""

    user: User
    patient: str | None = None
    encounter: str | None = None
    launch_id: str | None = None
    need_patient_banner: bool = False
    smart_style_url: str | None = None
    vendor: str | None = None


@dataclass(slots=True)
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    context: LaunchContext
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


@dataclass(slots=True)
class Token(TokenMixin):  # type: ignore[misc]
    access_token: str
    client_id: str
    scope: str
    context: LaunchContext
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def refresh_usable(self) -> bool:
        if self.refresh_revoked or not self.refresh_token:
            return False
        return self.refresh_expires_at is None or time.time() < self.refresh_expires_at

    def get_user(self) -> User:
        return self.context.user


class Store:
    """All grant state of one sandbox run, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._launches: dict[str, Launch] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._access: dict[str, Token] = {}
        self._refresh: dict[str, Token] = {}
        self._jtis: dict[str, float] = {}
        self._nonces: set[str] = set()
        self._picks: dict[str, tuple[str, str, str | None, float]] = {}

    # -- launches --
    def add_launch(self, launch: Launch) -> None:
        with self._lock:
            self._launches[launch.launch_id] = launch

    def get_launch(self, launch_id: str) -> Launch | None:
        with self._lock:
            launch = self._launches.get(launch_id)
        if launch is None or launch.expires_at < time.time():
            return None
        return launch

    # -- standalone patient picks --
    def add_pick(self, client_id: str, patient: str, portal_user: str | None = None) -> str:
        """Remember a picker's answer: the patient, and who signs in (None: the practitioner)."""
        pick_id = secrets.token_urlsafe(16)
        with self._lock:
            self._picks[pick_id] = (client_id, patient, portal_user, time.time() + PICK_LIFETIME_S)
        return pick_id

    def take_pick(self, pick_id: str, client_id: str) -> tuple[str, str | None] | None:
        """The picked patient and portal user, once; None when unknown, expired or another's."""
        with self._lock:
            entry = self._picks.pop(pick_id, None)
        if entry is None or entry[0] != client_id or entry[3] < time.time():
            return None
        return entry[1], entry[2]

    # -- authorization codes --
    def add_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._codes[code.code] = code
            if code.nonce:
                self._nonces.add(f"{code.client_id}:{code.nonce}")

    def get_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        with self._lock:
            found = self._codes.get(code)
        if found is None or found.client_id != client_id or found.expires_at < time.time():
            return None
        return found

    def peek_code(self, code: str) -> AuthorizationCode | None:
        """The code's grant, whoever asks (used only to find a launch's faults)."""
        with self._lock:
            return self._codes.get(code)

    def delete_code(self, code: str) -> None:
        with self._lock:
            self._codes.pop(code, None)

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        with self._lock:
            return f"{client_id}:{nonce}" in self._nonces

    # -- tokens --
    def add_token(self, token: Token) -> None:
        with self._lock:
            self._access[token.access_token] = token
            if token.refresh_token:
                self._refresh[token.refresh_token] = token

    def by_access_token(self, value: str) -> Token | None:
        with self._lock:
            return self._access.get(value)

    def by_refresh_token(self, value: str) -> Token | None:
        with self._lock:
            return self._refresh.get(value)

    # -- client assertion ids (private_key_jwt `jti`, never reused) --
    def use_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record a `jti`; False if this client used it before."""
        key = f"{client_id}:{jti}"
        now = time.time()
        with self._lock:
            self._jtis = {k: exp for k, exp in self._jtis.items() if exp > now - 3600}
            if key in self._jtis:
                return False
            self._jtis[key] = max(expires_at, now)
            return True
