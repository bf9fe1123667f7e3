"""Example clozapine-program records for the synthetic patients, dated relative to the as-of date.

The sandbox plays a health system that keeps its own program (the REMS is gone): most patients
enrolled and their prescribers and pharmacies certified, with a few gaps so the demo shows
enrollment findings. The file uses the registry JSON shape the app imports.

    python -m sandbox.program_registry --manifest var/sandbox/manifest.json --out registry.json
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# Patients left out of the program, or with an enrollment that shows a finding.
NOT_ENROLLED = {"sbx-weekly-overdue", "sbx-no-anc"}
EXPIRED_ENROLLMENT = {"sbx-monthly-current"}  # enrolled 400 days ago, renewal 365 days
INTERRUPTED = {"sbx-interruption-long"}
NOT_ON_CLOZAPINE = {"sbx-olanzapine"}
# Certification age in days (None: never certified); the example program renews every 730 days.
PRESCRIBERS = {"sbx-dr-ada": 200, "sbx-dr-bo": 600, "sbx-dr-cy": 745}
PHARMACIES = {"sbx-pharmacy-main": 300, "sbx-pharmacy-outpatient": 90}


def registry_document(manifest: dict[str, Any], as_of: date) -> dict[str, list[dict[str, Any]]]:
    """The registry records for the manifest's patients."""

    def ago(days: int) -> str:
        return (as_of - timedelta(days=days)).isoformat()

    patients = []
    for index, patient in enumerate(manifest["patients"]):
        pid = patient["id"]
        if pid in NOT_ENROLLED or pid in NOT_ON_CLOZAPINE:
            continue
        days = 400 if pid in EXPIRED_ENROLLMENT else 30 + (index * 11) % 300
        patients.append(
            {
                "patient": f"Patient/{pid}",
                "enrolled": ago(days),
                "prescriber": "Practitioner/sbx-dr-ada",
                "status": "interrupted" if pid in INTERRUPTED else "active",
            }
        )
    return {
        "prescribers": [
            {"practitioner": f"Practitioner/{pid}", "certified": ago(days)}
            for pid, days in PRESCRIBERS.items()
        ],
        "pharmacies": [
            {"organization": f"Organization/{oid}", "certified": ago(days)}
            for oid, days in PHARMACIES.items()
            if days is not None
        ],
        "patients": patients,
        "status_forms": [],
    }


def main(argv: list[str] | None = None) -> int:
    """Write the example registry next to the synthetic patients."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.program_registry")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    as_of = args.as_of or date.fromisoformat(manifest["as_of"])
    args.out.write_text(json.dumps(registry_document(manifest, as_of), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
