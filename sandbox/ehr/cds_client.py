"""The chart as a CDS Hooks client: discovery, prefetch from its templates, signed hook calls.

Each call carries a JWT signed with the chart's own key (cds_signer). In `prefetch` mode the
chart sends the data the discovery's prefetch templates ask for (read from the FHIR engine, all
pages); in `fhir-authorization` mode it sends no prefetch, only a short-lived token for the
patient's record that the service reads the sandbox's FHIR API with. A `cds_bad_jwt` fault
makes the chart sign with a key it never published.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from sandbox.ehr.cds_signer import CdsSigner
from sandbox.ehr.config import CDS_MODES
from sandbox.ehr.engine import Engine, EngineError, FhirJson
from sandbox.ehr.faults import FaultKind, FaultRegistry, Surface
from sandbox.ehr.store import LaunchContext, Store, Token, User

LOGGER = logging.getLogger(__name__)
CDS_TIMEOUT_S = 10.0
# The token a `fhir-authorization` call carries: read-only, this patient, five minutes.
AUTHORIZATION_SCOPE = (
    "patient/Patient.rs patient/MedicationRequest.rs patient/Medication.rs "
    "patient/Observation.rs patient/Condition.rs patient/Practitioner.rs "
    "patient/PractitionerRole.rs"
)
AUTHORIZATION_LIFETIME_S = 300
MAX_PAGES = 50
_TEMPLATE = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")


class CdsUnavailable(Exception):
    """The service could not be asked, or refused; the message says what an EHR shows."""


@dataclass(frozen=True, slots=True)
class HookCall:
    """One hook's answer: the service called and the cards it returned."""

    service_id: str
    cards: list[dict[str, Any]]


@dataclass(slots=True)
class CdsClient:
    """Calls the CDS Hooks service at `services_url` on the chart's behalf."""

    signer: CdsSigner
    engine: Engine
    store: Store
    faults: FaultRegistry
    fhir_base: str
    client_id: str
    services_url: str
    mode: str
    ca_path: Path | None = None
    _discovery: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def configure(self, services_url: str | None = None, mode: str | None = None) -> None:
        """Switch the service called or the mode (the control API does, for tests)."""
        if mode is not None and mode not in CDS_MODES:
            raise ValueError(f"mode must be one of {CDS_MODES}")
        if services_url is not None and services_url and not services_url.startswith("https://"):
            raise ValueError("services_url must be an https URL (or empty)")
        with self._lock:
            if services_url is not None and services_url != self.services_url:
                self.services_url = services_url
                self._discovery = None
            if mode is not None:
                self.mode = mode

    @property
    def enabled(self) -> bool:
        return bool(self.services_url)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            session.verify = str(self.ca_path) if self.ca_path else True
            self._local.session = session
        return session

    def _send(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        forged = (
            self.faults.take((FaultKind.CDS_BAD_JWT,), on=Surface.CDS, client_id=None, launch=None)
            is not None
        )
        headers = {
            "Authorization": f"Bearer {self.signer.token(url, forged=forged)}",
            "Accept": "application/json",
        }
        try:
            answer = self._session().request(
                method,
                url,
                json=body,
                headers=headers,
                timeout=CDS_TIMEOUT_S,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            LOGGER.warning("CDS service unreachable: %s", type(error).__name__)
            raise CdsUnavailable("the decision support service could not be reached") from None
        if answer.status_code != 200:
            raise CdsUnavailable(_refusal(answer))
        try:
            return answer.json()
        except ValueError:
            raise CdsUnavailable(
                "the decision support service answered something not JSON"
            ) from None

    def discovery(self) -> dict[str, Any]:
        """The service's discovery document (read once per services URL)."""
        with self._lock:
            cached, url = self._discovery, self.services_url
        if cached is not None:
            return cached
        found = self._send("GET", url)
        if not isinstance(found, dict) or not isinstance(found.get("services"), list):
            raise CdsUnavailable("the decision support service's discovery lists no services")
        with self._lock:
            if self.services_url == url:
                self._discovery = found
        return dict(found)

    def service_for(self, hook: str) -> dict[str, Any] | None:
        """The first service of the discovery that answers `hook`."""
        return next(
            (
                s
                for s in self.discovery()["services"]
                if isinstance(s, dict) and s.get("hook") == hook and isinstance(s.get("id"), str)
            ),
            None,
        )

    def call(self, hook: str, context: dict[str, Any]) -> HookCall | None:
        """Call the service for `hook` with this context; None when no service answers it."""
        if not self.enabled:
            return None
        service = self.service_for(hook)
        if service is None:
            return None
        patient = str(context["patientId"])
        body: dict[str, Any] = {
            "hook": hook,
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": self.fhir_base,
            "context": context,
        }
        if self.mode == "prefetch":
            body["prefetch"] = self.prefetch(service.get("prefetch") or {}, context)
        else:
            body["fhirAuthorization"] = self.authorization(patient, str(context["userId"]))
        answer = self._send("POST", f"{self.services_url}/{service['id']}", body)
        cards = answer.get("cards") if isinstance(answer, dict) else None
        if not isinstance(cards, list):
            raise CdsUnavailable("the decision support service answered without cards")
        return HookCall(str(service["id"]), [c for c in cards if isinstance(c, dict)])

    def feedback(self, service_id: str, items: list[dict[str, Any]]) -> None:
        """Send feedback on cards of `service_id`."""
        self._send("POST", f"{self.services_url}/{service_id}/feedback", {"feedback": items})

    def prefetch(self, templates: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        """Each template's query run against the FHIR engine (searches: every page)."""
        filled: dict[str, Any] = {}
        for key, template in templates.items():
            if not isinstance(template, str):
                continue
            query = _TEMPLATE.sub(lambda m: str(context.get(m.group(1), "")), template)
            try:
                filled[key] = self._fetch(query)
            except EngineError:
                filled[key] = None  # the service reads what is missing, or says it could not
        return filled

    def _fetch(self, query: str) -> FhirJson | None:
        parts = urlsplit(query)
        params = parse_qsl(parts.query, keep_blank_values=True)
        answer = self.engine.request("GET", parts.path, params=params)
        if answer.status_code != 200:
            return None
        found: FhirJson = answer.json()
        if found.get("resourceType") != "Bundle":
            return found
        pages = 1
        link = _next_link(found)
        while link is not None and pages < MAX_PAGES:
            following = urlsplit(link)
            path = following.path.removeprefix(urlsplit(self.fhir_base).path)
            page = self.engine.request("GET", path, params=parse_qsl(following.query))
            if page.status_code != 200:
                return None
            data = page.json()
            found.setdefault("entry", []).extend(data.get("entry") or [])
            link, pages = _next_link(data), pages + 1
        if link is not None:
            return None
        found["link"] = [k for k in found.get("link", []) if k.get("relation") != "next"]
        return found

    def authorization(self, patient: str, user: str) -> dict[str, Any]:
        """A fresh read-only token for the patient's record, as `fhirAuthorization`."""
        kind, _, user_id = user.partition("/")
        value = secrets.token_urlsafe(32)
        self.store.add_token(
            Token(
                access_token=value,
                client_id=self.client_id,
                scope=AUTHORIZATION_SCOPE,
                context=LaunchContext(
                    user=User(user_id or kind, kind if user_id else "Practitioner"), patient=patient
                ),
                expires_in=AUTHORIZATION_LIFETIME_S,
            )
        )
        return {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": AUTHORIZATION_LIFETIME_S,
            "scope": AUTHORIZATION_SCOPE,
            "subject": self.client_id,
            "patient": patient,
        }


def _next_link(bundle: FhirJson) -> str | None:
    return next(
        (
            str(link["url"])
            for link in bundle.get("link", []) or []
            if isinstance(link, dict) and link.get("relation") == "next" and link.get("url")
        ),
        None,
    )


def _refusal(answer: requests.Response) -> str:
    """What the chart shows when the service refuses a call: the status and its reason."""
    reason = ""
    try:
        data = answer.json()
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            reason = data["reason"][:200]
    except ValueError:
        pass
    if answer.status_code == 401:
        head = "the decision support service refused the EHR's credentials (401)"
    else:
        head = f"the decision support service answered {answer.status_code}"
    return f"{head}: {reason}" if reason else head
