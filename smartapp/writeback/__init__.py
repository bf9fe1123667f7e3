"""Write-back: findings to Flag, Task or a fallback in the EHR, exactly once, retired when done.

- `capability`: which resource this EHR and sign-in allow (CapabilityStatement + scopes).
- `service`: one write, exactly once (ledger claim, conditional create, audit).
- `lifecycle`: earlier Flags set inactive and Tasks completed once the finding no longer holds.
- `validation`: every outbound resource checked with fhir.resources (R4B) before it is sent.
- `launch_writeback`: all of it for one launch session; `panel`: what the chart page shows.
"""

from smartapp.writeback.capability import (
    CapabilityCache,
    ServerCapabilities,
    WriteDecision,
    decide,
    may_update,
    server_capabilities,
)
from smartapp.writeback.launch_writeback import LaunchWriteback, triggering_codes
from smartapp.writeback.lifecycle import (
    LifecycleChange,
    holding,
    retire_reason,
    update_lifecycle,
)
from smartapp.writeback.service import EhrWriter, OutcomeKind, WriteOutcome, write_target
from smartapp.writeback.validation import OutboundInvalid, validate_outbound

__all__ = [
    "CapabilityCache",
    "EhrWriter",
    "LaunchWriteback",
    "LifecycleChange",
    "OutboundInvalid",
    "OutcomeKind",
    "ServerCapabilities",
    "WriteDecision",
    "WriteOutcome",
    "decide",
    "holding",
    "may_update",
    "retire_reason",
    "server_capabilities",
    "triggering_codes",
    "update_lifecycle",
    "validate_outbound",
    "write_target",
]
