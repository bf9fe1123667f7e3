"""Command line: write the synthetic cohort as a FHIR transaction Bundle and its manifest."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sandbox.patients.bundle import DEFAULT_SEED, build


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _write_json(path: Path, data: Any, *, indent: int | None) -> None:
    separators = (",", ":") if indent is None else None
    text = json.dumps(data, ensure_ascii=False, indent=indent, separators=separators)
    path.write_text(text + "\n", encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.patients",
        description="Write the sandbox EHR's synthetic patients as a FHIR R4 transaction Bundle.",
    )
    parser.add_argument("--out", type=Path, required=True, help="Bundle file to write")
    parser.add_argument("--manifest", type=Path, help="also write the patient manifest (JSON)")
    parser.add_argument(
        "--as-of", type=_iso_date, help="date the data is relative to (default: today)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: 1)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status."""
    args = _parser().parse_args(argv)
    as_of = args.as_of or date.today()
    bundle, manifest = build(as_of, args.seed)
    _write_json(args.out, bundle, indent=None)
    if args.manifest:
        _write_json(args.manifest, manifest, indent=2)
    count = len(manifest["patients"])
    sys.stdout.write(
        f"{count} patients, {len(bundle['entry'])} resources, as of {as_of}: {args.out}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
