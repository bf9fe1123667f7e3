"""Housekeeping done on the way: expired launch sessions and pending launches are deleted.

Run at each new launch (cheap indexed DELETEs). A session that expired or went idle is kept for
the session retention (SMARTAPP_SESSION_RETENTION_DAYS, a day by default) after it ended, so a
request still naming its handle is logged with the cause of the end (its evaluation, encrypted,
is never shown again); a revoked one goes at once.
`smartapp db purge` (retention.py) deletes the same rows, and audit events past their
retention, without waiting for a launch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from smartapp.db import LaunchSessions, PendingLaunches

ENDED_SESSION_GRACE = timedelta(days=1)


def purge_stale(
    sessions: LaunchSessions,
    pending: PendingLaunches,
    now: datetime,
    grace: timedelta = ENDED_SESSION_GRACE,
) -> int:
    """Delete pending launches past expiry and sessions ended over `grace` ago; how many went."""
    return pending.purge(now=now) + sessions.purge(now=now - grace)
