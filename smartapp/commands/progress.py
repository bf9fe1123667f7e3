"""A progress line on a terminal for long `smartapp evaluate --ndjson` runs (silent otherwise)."""

from __future__ import annotations

import os
import time
from typing import TextIO


class Progress:
    """Bytes read out of the file's size, and Bundles per second, redrawn twice a second."""

    def __init__(self, total_bytes: int | None, stream: TextIO, *, enabled: bool) -> None:
        self._total = total_bytes
        self._stream = stream
        self._enabled = enabled
        self._done_bytes = 0
        self._lines = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    @classmethod
    def for_file(cls, path: str, stream: TextIO) -> Progress:
        """Shown only when `stream` is a terminal; the total is known for a regular file."""
        total = None
        if path != "-":
            try:
                total = os.path.getsize(path)
            except OSError:
                total = None
        return cls(total, stream, enabled=stream.isatty())

    def advance(self, line_bytes: int) -> None:
        """Count one input line."""
        self._done_bytes += line_bytes
        self._lines += 1
        now = time.monotonic()
        if self._enabled and now - self._drawn >= 0.5:
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        """Draw the final figures and end the line."""
        if self._enabled:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, now: float) -> None:
        rate = self._lines / max(now - self._started, 1e-9)
        if self._total:
            share = min(self._done_bytes / self._total, 1.0)
            bar = "#" * int(share * 30)
            text = f"\r[{bar:<30}] {share:6.1%}  {self._lines} Bundles  {rate:,.0f}/s"
        else:
            text = f"\r{self._lines} Bundles  {rate:,.0f}/s"
        self._stream.write(text)
        self._stream.flush()
