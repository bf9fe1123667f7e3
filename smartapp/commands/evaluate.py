"""`smartapp evaluate`: read the inputs, check them, run the one engine, print JSON or text."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
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
from fhir_mappings import BundleError, MappingSettings, patient_facts_from_bundle
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


def _prepare(args: argparse.Namespace) -> _Run:
    config = _config(args.config)
    try:
        settings = config.mapping_settings(args.timezone)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    as_of = _as_of(args.as_of, settings.timezone)
    policy = _policy(args.policy, as_of)
    if config.program is not None:
        policy = with_organisation_program(policy, config.program)
    return _Run(settings, as_of, policy, _registry(args.registry), args.format == "text")


def run_evaluate(args: argparse.Namespace) -> str:
    """Everything `smartapp evaluate` prints on stdout; raises UsageError for unusable input."""
    run = _prepare(args)
    return run.render(_json_input(args.bundle, "bundle"))


def run_evaluate_stream(
    args: argparse.Namespace, write: Callable[[str], object], progress: Progress
) -> int:
    """`--ndjson`: one Bundle per input line, evaluated and written as it is read.

    Memory stays flat whatever the number of patients. A line that is not a usable Bundle is
    reported on stderr with its line number and skipped; the count of such lines is returned.
    """
    run = _prepare(args)
    skipped = 0
    try:
        stream = sys.stdin if args.bundle == "-" else open(args.bundle, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read bundle file {args.bundle}: {exc.strerror or exc}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            progress.advance(len(line))
            if not line.strip():
                continue
            try:
                write(run.render(json.loads(line)))
            except (json.JSONDecodeError, RecursionError):
                skipped += 1
                sys.stderr.write(f"smartapp: line {number} is not valid JSON; skipped\n")
            except UsageError as exc:
                skipped += 1
                sys.stderr.write(f"smartapp: line {number}: {exc}; skipped\n")
    progress.finish()
    return skipped


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


def _registry(path: str | None) -> Registry | None:
    if path is None:
        return None
    try:
        return Registry.from_json(_json_input(path, "registry"))
    except RegistryFormatError as exc:
        raise UsageError(f"registry file {path} is malformed: {exc}") from None


def _json_input(path: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} file {path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"{what} file {path} is not valid JSON: {exc}") from None
