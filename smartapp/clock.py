"""The one "today" of the app and its commands: the date now in the organisation's time zone.

Every view and command that needs the date an evaluation is made as of asks here, so the page,
the write-back, the registry screens and `smartapp evaluate` agree at midnight. Without a
configured zone the machine's own zone is used, as a command line tool's user expects.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo


def today(zone: tzinfo | None) -> date:
    """Today's date in `zone` (the machine's zone when None)."""
    return datetime.now(zone).date()


def now_utc() -> datetime:
    """The current instant, as an aware UTC datetime."""
    return datetime.now(UTC)
