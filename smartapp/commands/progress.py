"""Progress of a long command: a `rich` bar on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import os
import time
from typing import Any, TextIO

# Without a terminal (a log file, cron's mail) one plain line this often, so a short run says
# nothing and a long one shows it is alive.
PLAIN_EVERY_S = 10.0
# How often the terminal bar is fed (each update takes a lock in rich; lines come by the million).
_BAR_EVERY_S = 0.1


class Progress:
    """Work done out of a total (bytes, patients), with items counted and their rate.

    `total` is None when unknown (standard input). `terminal` picks the bar; without it the same
    figures go out as plain lines, the first after PLAIN_EVERY_S, none at all for a short run.
    """

    def __init__(
        self,
        total: int | None,
        stream: TextIO,
        *,
        enabled: bool,
        label: str = "Bundles",
        description: str = "evaluating",
        plain_every_s: float = PLAIN_EVERY_S,
    ) -> None:
        self._total = total or None
        self._stream = stream
        self._terminal = enabled
        self._label = label
        self._description = description
        self._plain_every_s = plain_every_s
        self._done = 0
        self._items = 0
        self._started = time.monotonic()
        self._next_at = self._started + (_BAR_EVERY_S if enabled else plain_every_s)
        self._bar: Any = None
        self._task: Any = None

    @classmethod
    def for_file(cls, path: str, stream: TextIO) -> Progress:
        """Progress through one input file (its size is the total; none for standard input)."""
        total = None
        if path != "-":
            try:
                total = os.path.getsize(path)
            except OSError:
                total = None
        return cls(total, stream, enabled=stream.isatty())

    @classmethod
    def for_work(
        cls, total: int | None, stream: TextIO, *, label: str, description: str
    ) -> Progress:
        """Progress through `total` units of some other work (bytes of an export, patients)."""
        return cls(total, stream, enabled=stream.isatty(), label=label, description=description)

    def advance(self, amount: int, items: int = 1) -> None:
        """Count `items` more done, `amount` units of the total (bytes, say) between them."""
        self._done += amount
        self._items += items
        now = time.monotonic()
        if now >= self._next_at:
            self._show(now)

    def finish(self) -> None:
        """The final figures; the bar is closed and its line ended."""
        if self._terminal:
            self._feed_bar()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
        elif time.monotonic() - self._started >= self._plain_every_s:
            self._stream.write(self._plain_line(time.monotonic()) + " done\n")
            self._stream.flush()

    def _show(self, now: float) -> None:
        if self._terminal:
            self._next_at = now + _BAR_EVERY_S
            self._feed_bar()
        else:
            self._next_at = now + self._plain_every_s
            self._stream.write(self._plain_line(now) + "\n")
            self._stream.flush()

    def _plain_line(self, now: float) -> str:
        rate = self._items / max(now - self._started, 1e-9)
        share = f" ({min(self._done / self._total, 1.0):.0%})" if self._total else ""
        return f"smartapp: {self._description}: {self._items:,} {self._label}{share}, {rate:,.0f}/s"

    def _feed_bar(self) -> None:
        if self._bar is None:
            self._start_bar()
        self._bar.update(self._task, completed=self._done, items=self._items, refresh=True)

    def _start_bar(self) -> None:
        # Imported only on a terminal: `rich` costs start-up time a batch run never pays.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[items]:,} " + self._label),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self._stream, force_terminal=True),
            auto_refresh=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._description, total=self._total, items=0)
