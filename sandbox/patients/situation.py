"""What one synthetic patient is for: name, one-line situation, tags, and how to chart it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.patients.chart import Chart

BLACK_OR_AFRICAN_AMERICAN = ("2054-5", "Black or African American")
WHITE = ("2106-3", "White")
ASIAN = ("2028-9", "Asian")


@dataclass(frozen=True, slots=True)
class Situation:
    """A patient's intent. The tags say what the data contains, never an evaluation result."""

    slug: str
    family: str
    given: str
    gender: str
    age_years: int
    description: str
    tags: tuple[str, ...]
    build: Callable[[Chart], None]
    race: tuple[str, str] | None = None

    @property
    def patient_id(self) -> str:
        return f"sbx-{self.slug}"

    @property
    def display_name(self) -> str:
        return f"{self.given} {self.family}"
