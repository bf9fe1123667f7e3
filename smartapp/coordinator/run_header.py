"""The run above the table: when it was made, how old it is, whether it is stale, its counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smartapp.coordinator.filters import INCOMPLETE
from smartapp.coordinator.rows import STATUS_WORDS
from smartapp.db.worklist_runs import STATUS_ORDER, StoredRun


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many patients have one status (`key` is the status filter's value)."""

    key: str
    words: str
    count: int


@dataclass(frozen=True, slots=True)
class RunHeader:
    """The run's time, age, staleness and counts (`ok` only of patients whose data was whole:
    the others are counted as data incomplete, never as ok)."""

    run_id: str
    finished: str
    age: str
    stale: bool
    stale_after: str
    as_of: str
    policy: str
    group: str
    patients: int
    counts: tuple[StatusCount, ...]
    unusable_lines: int
    export_errors: int


def run_header(
    run: StoredRun, by_status: dict[tuple[str, bool], int], now: datetime, max_age: timedelta
) -> RunHeader:
    """The header of `run` at `now`: stale when older than `max_age` (the scheduler stopped)."""
    finished = run.finished_at if run.finished_at.tzinfo else run.finished_at.replace(tzinfo=UTC)
    age = now - finished
    counts = [_count(status, by_status) for status in STATUS_ORDER]
    incomplete = sum(n for (_, complete), n in by_status.items() if not complete)
    counts.append(StatusCount(INCOMPLETE, "Data incomplete (any status)", incomplete))
    return RunHeader(
        run_id=run.run_id,
        finished=finished.strftime("%Y-%m-%d %H:%M UTC"),
        age=_age(age),
        stale=age > max_age,
        stale_after=_age(max_age),
        as_of=run.as_of.isoformat(),
        policy=run.policy,
        group=run.group_id or "every patient",
        patients=run.patients,
        counts=tuple(counts),
        unusable_lines=int(run.counts.get("unusable_lines", 0) or 0),
        export_errors=int(run.counts.get("export_errors", 0) or 0),
    )


def _count(status: str, by_status: dict[tuple[str, bool], int]) -> StatusCount:
    whole = by_status.get((status, True), 0)
    if status == "ok":
        return StatusCount(status, "OK (whole data)", whole)
    return StatusCount(status, STATUS_WORDS[status], whole + by_status.get((status, False), 0))


def _age(age: timedelta) -> str:
    hours = max(int(age.total_seconds() // 3600), 0)
    if hours < 1:
        return f"{max(int(age.total_seconds() // 60), 0)} minutes"
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"
