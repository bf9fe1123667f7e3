"""Write-back: findings to Flag, Task or a fallback in the EHR, exactly once, retired when done.

- `capability`: which resource this EHR and sign-in allow (CapabilityStatement, vendor profile,
  scopes).
- `service`: one write, exactly once (ledger claim, conditional create, audit).
- `lifecycle`: earlier Flags set inactive and Tasks completed once the finding no longer holds
  (planned without I/O, applied on a POST).
- `validation`: every outbound resource checked with fhir.resources (R4B) before it is sent.
- `launch_writeback`: all of it for one launch session; `panel`: what the chart page shows;
  `notice`: what a POST did, for the page its redirect shows; `views`: the routes.
"""

from smartapp.writeback.capability import (
    ServerCapabilities,
    WriteDecision,
    decide,
    may_update,
    server_capabilities,
)
from smartapp.writeback.launch_writeback import LaunchWriteback, triggering_codes
from smartapp.writeback.lifecycle import (
    LifecycleChange,
    PlannedChange,
    apply_lifecycle,
    holding,
    plan_lifecycle,
    retire_reason,
)
from smartapp.writeback.service import EhrWriter, OutcomeKind, WriteOutcome, write_target
from smartapp.writeback.validation import OutboundInvalid, validate_outbound

__all__ = [
    "EhrWriter",
    "LaunchWriteback",
    "LifecycleChange",
    "OutboundInvalid",
    "OutcomeKind",
    "PlannedChange",
    "ServerCapabilities",
    "WriteDecision",
    "WriteOutcome",
    "apply_lifecycle",
    "decide",
    "holding",
    "may_update",
    "plan_lifecycle",
    "retire_reason",
    "server_capabilities",
    "triggering_codes",
    "validate_outbound",
    "write_target",
]
