"""What the worklist needs of a progress display (the command gives it `commands.progress`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Meter(Protocol):
    """Work done out of a total, shown as the command sees fit."""

    def advance(self, amount: int, items: int = 1) -> None: ...

    def finish(self) -> None: ...


# (total or None, what the items are called, what is being done) -> a Meter
MeterFactory = Callable[[int | None, str, str], Meter]
# One line for stderr (a problem with a line, a patient, the export).
Report = Callable[[str], object]
