"""Large synthetic populations written as Bulk Data output files (one `*.ndjson` per type).

Each patient has two years of clozapine history on the label's schedule (weekly for 26 weeks,
every two weeks to a year, monthly after), with low results now and then. Some patients have
their ANC under a local code only, collection times in UTC, ANCs derived from a white count and
a neutrophil percentage, documented BEN, an interruption (a new episode after 45 days off),
or a planned restart after an interruption. Orders name a shared Practitioner, some through a
PractitionerRole, and some a shared Medication. The same patients can be written as one Bundle
per line, for `smartapp evaluate --ndjson` over the same data.

.venv/bin/python -m benchmarks.bulk_export FOLDER PATIENTS [--bundles FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import IO, Any

import msgspec

from benchmarks.synthetic import AS_OF, RXNORM, anc_values

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
LOCAL_LAB = "https://ehr.example.org/codes/lab"
TYPES = (
    "Patient",
    "MedicationRequest",
    "Observation",
    "Condition",
    "Medication",
    "Practitioner",
    "PractitionerRole",
)
PRACTITIONERS = 40
_ENCODE = msgspec.json.Encoder().encode
CENTRAL = timezone(timedelta(hours=-6))
# The organisation settings both commands run with: the local ANC code and the time zone.
CONFIG = f"""[organisation]
name = "Benchmark Health"
timezone = "America/Chicago"

[[codes.anc]]
system = "{LOCAL_LAB}"
code = "ANC-AUTO"
"""


def schedule(start: date, end: date) -> list[date]:
    """Collection dates from `start` to `end`: weekly, then every 2 weeks, then monthly."""
    days: list[date] = []
    on = start
    while on <= end:
        days.append(on)
        elapsed = (on - start).days
        on += timedelta(days=7 if elapsed < 182 else 14 if elapsed < 365 else 30)
    return days


def shared_resources() -> list[dict[str, Any]]:
    """The Practitioners, their PractitionerRoles and the clozapine Medication orders name."""
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Medication",
            "id": "clozapine-100",
            "code": {"coding": [{"system": RXNORM, "code": "197535"}], "text": "clozapine 100 MG"},
        }
    ]
    for n in range(PRACTITIONERS):
        resources.append(
            {
                "resourceType": "Practitioner",
                "id": f"dr-{n}",
                "name": [{"family": f"Prescriber{n}", "given": ["Alex"]}],
            }
        )
        resources.append(
            {
                "resourceType": "PractitionerRole",
                "id": f"role-{n}",
                "practitioner": {"reference": f"Practitioner/dr-{n}"},
            }
        )
    return resources


def _instant(on: date, utc: bool) -> str:
    moment = datetime.combine(on, time(8, 30), CENTRAL)
    if utc:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


def _lab(
    pid: str, n: int, system: str, code: str, on: str, value: Any, unit: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"{pid}-lab-{n}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": on,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _order(pid: str, n: int, seed: int, start: date, end: date | None) -> dict[str, Any]:
    doctor = seed % PRACTITIONERS
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"{pid}-mr-{n}",
        "status": "active" if end is None else "completed",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": start.isoformat(),
        "requester": {
            "reference": f"PractitionerRole/role-{doctor}"
            if seed % 2
            else f"Practitioner/dr-{doctor}"
        },
        "dispenseRequest": {"validityPeriod": {"start": start.isoformat()}},
    }
    if end is not None:
        order["dispenseRequest"]["validityPeriod"]["end"] = end.isoformat()
    if seed % 3 == 0:
        order["medicationReference"] = {"reference": "Medication/clozapine-100"}
    else:
        order["medicationCodeableConcept"] = {
            "coding": [{"system": RXNORM, "code": "197535", "display": "clozapine 100 MG"}]
        }
    return order


def patient_resources(seed: int, as_of: date = AS_OF) -> list[dict[str, Any]]:
    """One patient's own resources: the Patient first, then orders, conditions, results."""
    rng = random.Random(seed)
    pid = f"bulk-{seed}"
    shape = seed % 10
    utc = seed % 2 == 1
    start = as_of - timedelta(days=730 + rng.randint(0, 30))
    last_draw = as_of - timedelta(days=rng.randint(0, 40 if seed % 13 == 0 else 9))
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                            }
                        ]
                    },
                    "value": f"MRN{seed:08d}",
                }
            ],
            "name": [{"use": "official", "family": f"Synthetic{seed}", "given": ["Pat"]}],
        }
    ]
    draws = schedule(start, last_draw)
    if shape == 3:  # an interruption: 45 days off, then a new episode
        stop = start + timedelta(days=400)
        restart = stop + timedelta(days=45)
        resources.append(_order(pid, 0, seed, start, stop))
        resources.append(_order(pid, 1, seed, restart, None))
        draws = [d for d in draws if d <= stop] + schedule(restart, last_draw)
    elif shape == 4:  # stopped 60 days ago, a restart planned in 5 days with a baseline ANC
        stop = as_of - timedelta(days=60)
        resources.append(_order(pid, 0, seed, start, stop))
        resources.append(_order(pid, 1, seed, as_of + timedelta(days=5), None))
        draws = [d for d in draws if d <= stop] + [as_of - timedelta(days=3)]
    else:
        resources.append(_order(pid, 0, seed, start, None))
    if shape == 2:
        resources.append(
            {
                "resourceType": "Condition",
                "id": f"{pid}-ben",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"text": "Benign ethnic neutropenia"},
                "subject": {"reference": f"Patient/{pid}"},
            }
        )
    for n, (on, value) in enumerate(zip(draws, anc_values(rng, len(draws)), strict=True)):
        when = _instant(on, utc)
        if shape == 0:  # the EHR's own code only, in cells/uL
            resources.append(_lab(pid, n, LOCAL_LAB, "ANC-AUTO", when, value, "/uL"))
        elif shape == 1:  # derived: WBC x neutrophil %
            wbc = value * 2 + rng.randint(0, 2000)
            percent = round(value * 100 / wbc, 1)
            resources.append(_lab(pid, 2 * n, LOINC, "6690-2", when, wbc / 1000, "10*3/uL"))
            resources.append(_lab(pid, 2 * n + 1, LOINC, "770-8", when, percent, "%"))
        else:
            resources.append(_lab(pid, n, LOINC, "751-8", when, value / 1000, "10*3/uL"))
    return resources


def write_export(folder: Path, patients: int, bundles: Path | None = None) -> Path:
    """The export's files, its manifest and the settings file; optionally the Bundles too.

    Streams: one patient is in memory at a time. Returns the manifest's path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "organisation.toml").write_text(CONFIG)
    shared = shared_resources()
    counts = dict.fromkeys(TYPES, 0)
    outputs: dict[str, IO[bytes]] = {t: (folder / f"{t}.ndjson").open("wb") for t in TYPES}
    bundle_out = bundles.open("wb") if bundles is not None else None
    try:
        for resource in shared:
            _write(outputs, counts, resource)
        by_id = {f"{r['resourceType']}/{r['id']}": r for r in shared}
        for seed in range(patients):
            own = patient_resources(seed)
            for resource in own:
                _write(outputs, counts, resource)
            if bundle_out is not None:
                entries = [*own, *_named_shared(own, by_id)]
                bundle = {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": r} for r in entries],
                }
                bundle_out.write(_ENCODE(bundle) + b"\n")
    finally:
        for stream in outputs.values():
            stream.close()
        if bundle_out is not None:
            bundle_out.close()
    manifest = {
        "transactionTime": f"{AS_OF.isoformat()}T06:00:00Z",
        "request": "https://ehr.example.org/fhir/Group/clozapine/$export",
        "requiresAccessToken": True,
        "output": [{"type": t, "url": f"{t}.ndjson", "count": counts[t]} for t in TYPES],
        "error": [],
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path


def _named_shared(
    own: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The shared resources one patient's orders name (a role's practitioner too), once each."""
    seen: set[str] = set()
    for resource in own:
        if resource["resourceType"] != "MedicationRequest":
            continue
        names = [resource["requester"]["reference"]]
        if "medicationReference" in resource:
            names.append(resource["medicationReference"]["reference"])
        for name in names:
            target = by_id[name]
            chain = [target]
            if target["resourceType"] == "PractitionerRole":
                chain.append(by_id[target["practitioner"]["reference"]])
            for found in chain:
                key = f"{found['resourceType']}/{found['id']}"
                if key not in seen:
                    seen.add(key)
                    yield found


def _write(outputs: dict[str, IO[bytes]], counts: dict[str, int], resource: dict[str, Any]) -> None:
    outputs[resource["resourceType"]].write(_ENCODE(resource) + b"\n")
    counts[resource["resourceType"]] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("patients", type=int)
    parser.add_argument("--bundles", type=Path, help="also write the same patients as Bundles")
    args = parser.parse_args()
    print(write_export(args.folder, args.patients, args.bundles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
