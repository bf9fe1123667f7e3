"""Debian's Chromium for the browser tests: launch flags, trust in the sandbox CA, what a page did."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Page, Request

from tests.conftest import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "e2e"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
# As root on a closed network: no sandbox, no GPU, and none of Chromium's own calls home
# (/work/.library/env/machines/python.md).
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Chromium's cookie setting (Settings > Privacy > Third-party cookies), read from the profile:
# 0 allows third-party cookies, 1 blocks them. No command-line switch decides it in Chromium
# 156 (`--test-third-party-cookie-phaseout` and the 3PCD features no longer block), and Debian's
# build blocks them when the profile says nothing, so each test profile says it explicitly.
COOKIE_CONTROLS_ALLOW, COOKIE_CONTROLS_BLOCK_THIRD_PARTY = 0, 1


def spki_hashes(*pem_files: Path) -> list[str]:
    """base64(SHA-256(SubjectPublicKeyInfo)) of every certificate in these PEM files."""
    hashes = []
    for path in pem_files:
        for cert in x509.load_pem_x509_certificates(path.read_bytes()):
            spki = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            hashes.append(base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii"))
    return sorted(set(hashes))


def chromium_args(trusted_spki: list[str]) -> list[str]:
    """The launch flags, the sandbox's certificates trusted by their keys (valid TLS, no warning)."""
    return [*BASE_ARGS, f"--ignore-certificate-errors-spki-list={','.join(trusted_spki)}"]


def new_profile(folder: Path, *, block_third_party_cookies: bool) -> Path:
    """A fresh user-data-dir whose cookie setting allows or blocks third-party cookies."""
    mode = COOKIE_CONTROLS_BLOCK_THIRD_PARTY if block_third_party_cookies else COOKIE_CONTROLS_ALLOW
    preferences = {
        "profile": {
            "cookie_controls_mode": mode,
            "block_third_party_cookies": block_third_party_cookies,
        }
    }
    (folder / "Default").mkdir(parents=True)
    (folder / "Default" / "Preferences").write_text(json.dumps(preferences), encoding="utf-8")
    return folder


@dataclass
class PageLog:
    """Everything the page and its frames asked for or complained about."""

    requests: list[Request] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _request(self, request: Request) -> None:
        self.requests.append(request)

    def _page_error(self, error: Error) -> None:
        self.page_errors.append(str(error))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def off_loopback(self) -> list[str]:
        """Requests that went anywhere but this machine (a CDN, an analytics beacon...)."""
        return [
            request.url
            for request in self.requests
            if urlsplit(request.url).scheme not in ("data", "blob", "about")
            and urlsplit(request.url).hostname not in LOOPBACK_HOSTS
        ]

    def urls(self, origin: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.url.startswith(f"{origin}{path}")]


@dataclass
class OpenPage:
    """A page of a freshly started Chromium, with what it requested and logged."""

    context: BrowserContext
    page: Page
    log: PageLog


def save_screenshot(page: Page, name: str) -> Path:
    """A PNG of the viewport kept under test-artifacts/e2e/ (git-ignored).

    Not full-page: the chart sizes its iframe by the viewport height, and a full-page capture
    resizes the viewport, so the app's canvas would be caught cleared mid-redraw.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path))
    return path
