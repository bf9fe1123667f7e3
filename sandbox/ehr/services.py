"""The objects one EHR front shares between its blueprints, kept on the Flask app."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from sandbox.ehr.authserver import SandboxAuthorizationServer
from sandbox.ehr.bulk_jobs import JobStore
from sandbox.ehr.cds_board import CdsBoard
from sandbox.ehr.cds_client import CdsClient
from sandbox.ehr.cds_signer import CdsSigner
from sandbox.ehr.clients import ClientRegistry
from sandbox.ehr.config import SandboxConfig
from sandbox.ehr.engine import Engine, EngineError
from sandbox.ehr.faults import FaultRegistry
from sandbox.ehr.store import Launch, Store
from sandbox.ehr.vendors import VendorOverrides

EXTENSION_KEY = "sandbox_ehr"
FALLBACK_PRACTITIONER = "sandbox-practitioner"


@dataclass(frozen=True, slots=True)
class PatientEntry:
    """One synthetic patient as the manifest lists it."""

    patient_id: str
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()


def load_manifest(path: Path | None) -> list[PatientEntry]:
    """The patients manifest ({"patients": [{id, name, description, tags}, ...]} or that list)."""
    if path is None or not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("patients") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path} must list patients")
    return [
        PatientEntry(
            patient_id=str(item["id"]),
            name=str(item.get("name", item["id"])),
            description=str(item.get("description", "")),
            tags=tuple(str(tag) for tag in item.get("tags", [])),
        )
        for item in items
    ]


@dataclass(slots=True)
class EhrServices:
    config: SandboxConfig
    clients: ClientRegistry
    store: Store
    faults: FaultRegistry
    vendors: VendorOverrides
    server: SandboxAuthorizationServer
    engine: Engine
    manifest: list[PatientEntry]
    cds_signer: CdsSigner
    cds: CdsClient
    exports: JobStore = field(default_factory=JobStore)
    board: CdsBoard = field(default_factory=CdsBoard)
    _practitioner: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def default_practitioner(self) -> str:
        """The practitioner the sandbox signs in: configured, else the engine's first one."""
        if self.config.practitioner_id:
            return self.config.practitioner_id
        with self._lock:
            if self._practitioner is None:
                try:
                    found = self.engine.search("Practitioner", [("_count", "1")])
                except EngineError:
                    found = []
                self._practitioner = str(found[0]["id"]) if found else FALLBACK_PRACTITIONER
            return self._practitioner

    def patients(self) -> list[PatientEntry]:
        """The manifest's patients; without a manifest, the engine's first 200."""
        if self.manifest:
            return self.manifest
        try:
            found = self.engine.search("Patient", [("_count", "200")])
        except EngineError:
            return []
        return [PatientEntry(str(p["id"]), _display_name(p)) for p in found]

    def latest_encounter(self, patient_id: str) -> str | None:
        try:
            found = self.engine.search(
                "Encounter", [("patient", patient_id), ("_sort", "-date"), ("_count", "1")]
            )
        except EngineError:
            return None
        return str(found[0]["id"]) if found else None

    def create_launch(self, patient: str, **binding: Any) -> Launch:
        """A fresh opaque `launch` value bound to this patient (and the given context)."""
        launch = Launch(
            launch_id=secrets.token_urlsafe(24),
            patient=patient,
            practitioner=binding.pop("practitioner", None) or self.default_practitioner(),
            expires_at=time.time() + self.config.launch_lifetime_s,
            **binding,
        )
        self.store.add_launch(launch)
        return launch


def _display_name(patient: dict[str, Any]) -> str:
    name = (patient.get("name") or [{}])[0]
    text = name.get("text") or " ".join([*name.get("given", []), name.get("family", "")])
    return str(text).strip() or str(patient.get("id", ""))


def services() -> EhrServices:
    """The current app's services (inside a request or app context)."""
    found: EhrServices = current_app.extensions[EXTENSION_KEY]
    return found
