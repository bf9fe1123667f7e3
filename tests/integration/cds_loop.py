"""The sandbox chart calling the app's CDS Hooks service: the app under gunicorn, chart helpers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sandbox.run import Sandbox, free_port
from tests.e2e.stack import AppServer, app_environment, http_session, prepare_database

CDS_CLIENT_APP = "clozapine-smartapp"
_CARD = re.compile(r'<article class="cds-card[^"]*"(?P<attrs>[^>]*)>(?P<body>.*?)</article>', re.S)
_ATTR = re.compile(r'data-([a-z-]+)="([^"]*)"')
_SUGGESTION = re.compile(
    r'name="suggestion" value="([^"]+)">\s*<button[^>]*data-testid="cds-suggestion"[^>]*>([^<]*)<',
    re.S,
)


@contextmanager
def app_for_chart(sandbox: Sandbox, folder: Path, mode: str) -> Iterator[AppServer]:
    """The app over HTTPS on a free port, and the sandbox chart pointed at its CDS service."""
    port = free_port()
    env = app_environment(folder, sandbox, CDS_CLIENT_APP, port)
    prepare_database(folder, sandbox, env)
    app = AppServer(env, folder / "gunicorn.log").start(sandbox.ca_path)
    try:
        configure(sandbox, services_url=f"{app.origin}/cds-services", mode=mode)
        yield app
    finally:
        configure(sandbox, services_url="", mode="prefetch")
        app.stop()


def configure(sandbox: Sandbox, **settings: str) -> None:
    with http_session(sandbox) as session:
        answer = session.put(f"{sandbox.config.origin}/_sandbox/cds", json=settings, timeout=10)
    assert answer.status_code == 200, answer.text


@dataclass
class Card:
    """One card as the chart shows it."""

    uuid: str
    indicator: str
    service: str
    outcome: str
    summary: str
    html: str

    def suggestion(self, label_part: str) -> str:
        """The uuid of the card's suggestion whose label says `label_part`."""
        for match in _SUGGESTION.finditer(self.html):
            if label_part in html.unescape(match.group(2)):
                return match.group(1)
        raise AssertionError(f"no suggestion {label_part!r} on the card")

    def reasons(self) -> list[str]:
        return re.findall(r'<option value="([^"]+)">', self.html)


def cards_of(page: str) -> list[Card]:
    cards = []
    for match in _CARD.finditer(page):
        attrs = dict(_ATTR.findall(match.group("attrs")))
        summary = re.search(r'data-testid="cds-summary">([^<]*)<', match.group("body"))
        cards.append(
            Card(
                attrs["uuid"],
                attrs["indicator"],
                attrs["service"],
                attrs["outcome"],
                html.unescape(summary.group(1)) if summary else "",
                match.group("body"),
            )
        )
    return cards


def cds_error(page: str) -> str | None:
    found = re.search(r'data-testid="cds-error">(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


class Chart:
    """A browser on the sandbox chart: GETs pages, POSTs its forms with the CSRF token."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = http_session(sandbox)
        self.origin = sandbox.config.origin

    def open(self, patient: str) -> str:
        answer = self.session.get(f"{self.origin}/chart/{patient}", timeout=30)
        assert answer.status_code == 200, answer.text[:500]
        return answer.text

    def token(self) -> str:
        token = self.session.cookies.get("sbx_csrf")
        if token is None:
            self.open_list()
            token = self.session.cookies.get("sbx_csrf")
        assert token, "the chart set no CSRF cookie"
        return str(token)

    def open_list(self) -> None:
        self.session.get(f"{self.origin}/chart", timeout=30)

    def post(self, path: str, _allow_redirects: bool = True, **form: Any) -> requests.Response:
        body = {"csrf_token": self.token(), **form}
        return self.session.post(
            f"{self.origin}{path}", data=body, timeout=30, allow_redirects=_allow_redirects
        )

    def draft(self, patient: str, *, start: str, dose_mg: int = 100, supply: int = 7) -> str:
        answer = self.post(
            f"/chart/{patient}/orders", dose_mg=str(dose_mg), start=start, supply_days=str(supply)
        )
        assert answer.status_code == 200, answer.text[:500]
        return answer.text

    def engine_search(self, resource_type: str, patient: str) -> list[dict[str, Any]]:
        answer = requests.get(
            f"{self.sandbox.engine_base}/{resource_type}",
            params={"patient": patient, "_count": "200"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text[:300]
        return [e["resource"] for e in answer.json().get("entry", [])]


def draft_id_of(page: str) -> str:
    found = re.search(r'data-testid="order" data-draft="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def order_state(page: str) -> str:
    found = re.search(r'data-testid="order" data-draft="[^"]+"\s+data-state="([a-z]+)"', page)
    assert found, page[:500]
    return found.group(1)
