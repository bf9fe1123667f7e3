"""`smartapp evaluate`: read the inputs, check them, run the one engine, print JSON or text."""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

from clozapine import (
    EARLIEST_AS_OF,
    Policy,
    Registry,
    RegistryFormatError,
    UnknownPolicyError,
    evaluate,
    evaluation_to_json,
    policy_by_id,
    policy_in_force,
    with_organisation_program,
)
from fhir_mappings import (
    BundleError,
    JsonReadError,
    MappingSettings,
    patient_facts_from_bundle,
    read_json,
)
from smartapp.clock import today
from smartapp.commands.progress import Progress
from smartapp.commands.text_report import text_report
from smartapp.org_config import ConfigError, OrgConfig, load_org_config

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class UsageError(Exception):
    """Unusable input: the command exits 2 with this one-line message."""


@dataclass(frozen=True, slots=True)
class _Run:
    """What every Bundle of one run is evaluated with."""

    settings: MappingSettings
    as_of: date
    policy: Policy
    registry: Registry | None
    text: bool

    def render(self, bundle: Any) -> str:
        """The output for one Bundle; UsageError when it is not a usable Bundle."""
        try:
            patients = patient_facts_from_bundle(bundle, self.settings)
        except BundleError as exc:
            raise UsageError(str(exc)) from None
        evaluations = [evaluate(f, self.as_of, self.policy, self.registry) for f in patients]
        if self.text:
            return "\n\n".join(text_report(e) for e in evaluations) + "\n"
        return "".join(
            json.dumps(evaluation_to_json(e), ensure_ascii=False) + "\n" for e in evaluations
        )


def prepare_run(args: argparse.Namespace) -> _Run:
    """Settings, as-of date, policy and registry from the options (shared with `worklist`)."""
    config = _config(args.config)
    if args.timezone is not None and not args.timezone.strip():
        raise UsageError("--timezone is empty (use an IANA name such as America/Chicago)")
    try:
        settings = config.mapping_settings(args.timezone)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    as_of = _as_of(args.as_of, settings.timezone)
    policy = _policy(args.policy, as_of)
    if config.program is not None:
        policy = with_organisation_program(policy, config.program)
    # The registry is read once the policy is known: only an organisation program reads the
    # records' `expires` and `status`; under the REMS rules they never fail the file.
    registry = _registry(args.registry, program_fields=policy.organisation is not None)
    return _Run(settings, as_of, policy, registry, args.format == "text")


def run_evaluate(args: argparse.Namespace) -> str:
    """Everything `smartapp evaluate` prints on stdout; raises UsageError for unusable input."""
    run = prepare_run(args)
    return run.render(_json_input(args.bundle, "bundle"))


@dataclass(slots=True)
class StreamCounts:
    """How many lines of an `--ndjson` stream were evaluated and how many were skipped."""

    evaluated: int = 0
    skipped: int = 0


def run_evaluate_stream(
    args: argparse.Namespace, write: Callable[[str], object], progress: Progress
) -> StreamCounts:
    """`--ndjson`: one Bundle per input line, evaluated and written as it is read.

    Memory stays flat whatever the number of patients. A line that cannot be evaluated is
    reported on stderr with its line number and the stream goes on; the counts are returned.
    """
    run = prepare_run(args)
    counts = StreamCounts()
    try:
        stream = _stdin_bytes() if args.bundle == "-" else open(args.bundle, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read bundle file {args.bundle}: {exc.strerror or exc}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            progress.advance(len(line))
            if not line.strip():
                continue
            reason = _evaluate_line(run, line, write)
            if reason is None:
                counts.evaluated += 1
            else:
                counts.skipped += 1
                sys.stderr.write(f"smartapp: line {number}: {reason}; skipped\n")
    progress.finish()
    return counts


def _stdin_bytes() -> BinaryIO:
    """Standard input as bytes (each line is decoded, and judged, on its own)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return cast(BinaryIO, buffer)
    return io.BytesIO(sys.stdin.read().encode("utf-8", "surrogateescape"))


def _evaluate_line(run: _Run, line: bytes, write: Callable[[str], object]) -> str | None:
    """Evaluate one line and write its output; the reason it could not be, or None."""
    try:
        bundle = read_json(line)
    except JsonReadError as exc:
        return f"not valid JSON ({exc})"
    try:
        output = run.render(bundle)
    except UsageError as exc:
        return str(exc)
    except Exception as exc:  # one line must not stop a population: report it and go on
        return f"internal error ({type(exc).__name__}); please report it"
    write(output)
    return None


def _config(path: str | None) -> OrgConfig:
    if path is None:
        return OrgConfig()
    try:
        return load_org_config(Path(path))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _as_of(text: str | None, zone: ZoneInfo | None) -> date:
    if text is None:
        return today(zone)
    if not _ISO_DATE.fullmatch(text):
        raise UsageError(f"--as-of {text!r} is not a date written YYYY-MM-DD")
    try:
        as_of = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not a calendar date") from None
    if as_of < EARLIEST_AS_OF:
        raise UsageError(
            f"--as-of {text} is before {EARLIEST_AS_OF}, the earliest date a policy covers"
        )
    return as_of


def _policy(policy_id: str | None, as_of: date) -> Policy:
    try:
        return policy_by_id(policy_id) if policy_id is not None else policy_in_force(as_of)
    except UnknownPolicyError as exc:
        raise UsageError(str(exc)) from None


def _registry(path: str | None, *, program_fields: bool) -> Registry | None:
    if path is None:
        return None
    try:
        return Registry.from_json(_json_input(path, "registry"), program_fields=program_fields)
    except RegistryFormatError as exc:
        raise UsageError(f"registry file {path} is malformed: {exc}") from None


def _json_input(path: str, what: str) -> Any:
    """The file's JSON, read exactly (`fhir_mappings.read_json`: numbers as Decimal)."""
    try:
        text = _stdin_bytes().read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    try:
        return read_json(text)
    except JsonReadError as exc:
        raise UsageError(f"{what} file {path} is not valid JSON: {exc}") from None
