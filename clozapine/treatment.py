"""Treatment episodes: clozapine order periods merged, split where therapy stopped for 30+ days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from clozapine.facts import ClozapineOrder


@dataclass(frozen=True, slots=True)
class TreatmentEpisode:
    """A run of clozapine coverage with no gap of `gap_days` or more; `end_on` None is ongoing."""

    start_on: date
    end_on: date | None
    orders: tuple[ClozapineOrder, ...]

    def covers(self, day: date) -> bool:
        """True when the day lies between the episode's start and end."""
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)

    def next_covered_on(self, day: date) -> date | None:
        """The first date on or after `day` that one of the episode's orders covers."""
        best: date | None = None
        for order in self.orders:
            if order.start_on <= day and (order.end_on is None or day <= order.end_on):
                return day
            if order.start_on > day and (best is None or order.start_on < best):
                best = order.start_on
        return best


def treatment_episodes(orders: tuple[ClozapineOrder, ...], gap_days: int) -> list[TreatmentEpisode]:
    """Merge order periods; a period starting `gap_days` or more after the last end starts anew."""
    episodes: list[TreatmentEpisode] = []
    members: list[ClozapineOrder] = []
    start: date | None = None
    end: date | None = None
    for order in sorted(orders, key=lambda o: o.start_on):
        if start is not None and end is not None and (order.start_on - end).days >= gap_days:
            episodes.append(TreatmentEpisode(start, end, tuple(members)))
            start = None
        if start is None:
            start, end, members = order.start_on, order.end_on, [order]
            continue
        members.append(order)
        if end is not None:
            end = None if order.end_on is None else max(end, order.end_on)
    if start is not None:
        episodes.append(TreatmentEpisode(start, end, tuple(members)))
    return episodes


def current_episode(
    episodes: list[TreatmentEpisode], as_of: date, gap_days: int
) -> TreatmentEpisode | None:
    """The episode covering as_of, else one ended under `gap_days` before, else the next one."""
    for episode in episodes:
        if episode.covers(as_of):
            return episode
    for episode in reversed(episodes):
        if episode.end_on is not None and 0 < (as_of - episode.end_on).days < gap_days:
            return episode
    for episode in episodes:
        if episode.start_on > as_of:
            return episode
    return None


def current_order(episode: TreatmentEpisode, as_of: date) -> ClozapineOrder:
    """The order naming prescriber and pharmacy: latest started by as_of, else earliest planned.

    Ties go to the latest authoredOn instant (an order without one loses), then to the greater
    order id by code point (a missing id lowest): never to the order's place in the Bundle.
    """
    started = [o for o in episode.orders if o.start_on <= as_of]
    if started:
        latest_on = max(o.start_on for o in started)
        return max((o for o in started if o.start_on == latest_on), key=_tie_break)
    first_on = min(o.start_on for o in episode.orders)
    return max((o for o in episode.orders if o.start_on == first_on), key=_tie_break)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _tie_break(order: ClozapineOrder) -> tuple[bool, datetime, bool, str, str, str]:
    """Contract ruling "Order ties": authoredOn instant, then id; the rest only for determinism."""
    authored_at = order.authored_at
    if authored_at is None and order.authored_on is not None:
        authored_at = datetime.combine(order.authored_on, time(), UTC)
    return (
        authored_at is not None,
        authored_at or _NEVER,
        order.order_id is not None,
        order.order_id or "",
        order.prescriber or "",
        order.pharmacy or "",
    )
