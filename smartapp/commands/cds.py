"""`smartapp cds HOOK_REQUEST.json`: the CDS response the service would send, without network.

The request's prefetch must hold the data (nothing is read from an EHR and no JWT is checked);
the answer comes from smartapp.cds.response.answer_hook, the function the service calls.
"""

from __future__ import annotations

import argparse
import json

from clozapine import PatientFacts, Registry
from smartapp.cds.catalogue import BY_HOOK
from smartapp.cds.response import HookRequestError, HookSettings, PrefetchMissing, answer_hook
from smartapp.commands.evaluate import UsageError, _json_input, prepare_run
from smartapp.settings import SettingsError, command_base_url

# Where the card's `smart` link points when SMARTAPP_BASE_URL is not set (the README's run).
DEFAULT_BASE_URL = "https://localhost:8443"


def run_cds(args: argparse.Namespace) -> str:
    """Everything `smartapp cds` prints; UsageError for an unusable request."""
    request = _json_input(args.request, "hook request")
    hook = request.get("hook") if isinstance(request, dict) else None
    service = BY_HOOK.get(hook) if isinstance(hook, str) else None
    if service is None:
        raise UsageError(f"hook request {args.request}: unknown hook {str(hook)[:60]!r}")
    run = prepare_run(args)
    try:
        base_url = command_base_url() or DEFAULT_BASE_URL
    except SettingsError as error:
        raise UsageError(str(error)) from None
    registry = run.registry

    def registry_for(_facts: PatientFacts) -> Registry | None:
        return registry

    settings = HookSettings(run.settings, run.as_of, run.policy, f"{base_url}/launch", registry_for)
    try:
        answer = answer_hook(service, request, settings)
    except (HookRequestError, PrefetchMissing) as error:
        raise UsageError(f"hook request {args.request}: {error}") from None
    return json.dumps(answer.response, ensure_ascii=False, indent=2, default=str) + "\n"
