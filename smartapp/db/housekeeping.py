"""Housekeeping done on the way: expired launch sessions and pending launches are deleted.

Run at each new launch (cheap indexed DELETEs). An ended session is kept for a day after it
expires, so "open the app again" can still show the evaluation last seen in it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from smartapp.db import LaunchSessions, PendingLaunches

ENDED_SESSION_GRACE = timedelta(days=1)


def purge_stale(sessions: LaunchSessions, pending: PendingLaunches, now: datetime) -> int:
    """Delete pending launches past expiry and sessions ended over a day ago; how many went."""
    return pending.purge(now=now) + sessions.purge(now=now - ENDED_SESSION_GRACE)
