"""SMART App Launch client: discovery, authorization with PKCE, token exchange and refresh.

Knows SMART, not clozapine: imports nothing of the engine, the mappings or the app. The app
holds an `IssuerRegistry` (allow-list), a `DiscoveryCache` and a `KeyRing`, keeps each
`PendingLaunch` server-side keyed by its state, and stores the `TokenSet` of each launch.
"""

from launch.authorize import PendingLaunch, authorization_error, begin_launch, complete_launch
from launch.backend import BackendToken, backend_token
from launch.discovery import DiscoveryCache, SmartConfiguration, discover
from launch.errors import AuthError, ConfigurationError, LaunchError, SmartClientError
from launch.issuers import (
    DEFAULT_SCOPES,
    AuthMethod,
    IssuerConfig,
    IssuerRegistry,
    SigningAlg,
    Vendor,
    client_secret,
    load_issuers,
)
from launch.keys import FileKeyStorage, KeyRing, KeyStorage, MemoryKeyStorage, SigningKey
from launch.profiles import PATIENT_SCOPES, patient_scopes
from launch.scopes import ScopeVersion, scopes_grant, to_v1
from launch.tokens import TokenSet, granted, needs_refresh, refresh, refresh_margin

__all__ = [
    "DEFAULT_SCOPES",
    "PATIENT_SCOPES",
    "AuthError",
    "AuthMethod",
    "BackendToken",
    "ConfigurationError",
    "DiscoveryCache",
    "FileKeyStorage",
    "IssuerConfig",
    "IssuerRegistry",
    "KeyRing",
    "KeyStorage",
    "LaunchError",
    "MemoryKeyStorage",
    "PendingLaunch",
    "ScopeVersion",
    "SigningAlg",
    "SigningKey",
    "SmartClientError",
    "SmartConfiguration",
    "TokenSet",
    "Vendor",
    "authorization_error",
    "backend_token",
    "begin_launch",
    "client_secret",
    "complete_launch",
    "discover",
    "granted",
    "load_issuers",
    "needs_refresh",
    "patient_scopes",
    "refresh",
    "refresh_margin",
    "scopes_grant",
    "to_v1",
]
