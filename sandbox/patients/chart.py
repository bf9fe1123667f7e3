"""One synthetic patient's chart under construction, with days counted from the as-of date."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.patients import clinical, codes, labs
from sandbox.patients.clinical import MedicationForm, Prescriber
from sandbox.patients.codes import Drug, LabTest, Unit

FhirJson = dict[str, Any]

WEEKLY_UNTIL_DAY = 182  # routine weekly draws for the first 26 weeks, then every 2 weeks
EVERY_2_WEEKS_UNTIL_DAY = 365  # then monthly


def routine_interval_days(days_on_treatment: int) -> int:
    """The routine draw interval a clinic follows at this point of therapy (7, 14 or 30 days)."""
    if days_on_treatment < WEEKLY_UNTIL_DAY:
        return 7
    return 14 if days_on_treatment < EVERY_2_WEEKS_UNTIL_DAY else 30


@dataclass
class Chart:
    """Collects a patient's resources. `day` arguments are offsets from as_of (0 = as-of date,
    -7 = a week before, 1 = tomorrow), so the whole cohort moves with the as-of date."""

    patient_id: str
    as_of: date
    rng: random.Random
    prescriber: Prescriber
    unit: Unit = codes.THOUSANDS_MCL
    anc_test: LabTest = codes.ANC_AUTOMATED
    resources: list[FhirJson] = field(default_factory=list)
    _serials: dict[str, int] = field(default_factory=dict)

    def _next_id(self, kind: str) -> str:
        self._serials[kind] = self._serials.get(kind, 0) + 1
        return f"{self.patient_id}-{kind}-{self._serials[kind]}"

    def at(self, day: int, hour: int | None = None) -> datetime:
        """A UTC instant on that day; draws fall 14:00-17:59 UTC, the same date across US zones."""
        hour = self.rng.randint(14, 17) if hour is None else hour
        moment = datetime.combine(self.as_of + timedelta(days=day), time(hour), tzinfo=UTC)
        return moment + timedelta(minutes=self.rng.randrange(0, 60, 5))

    def anc(
        self,
        day: int,
        cells_per_ul: float,
        *,
        unit: Unit | None = None,
        test: LabTest | None = None,
        value: float | None = None,
    ) -> None:
        """A final ANC; `value` writes a number other than the converted count (unit errors)."""
        self.resources.append(
            labs.count_observation(
                self._next_id("lab"),
                self.patient_id,
                test or self.anc_test,
                self.at(day),
                cells_per_ul,
                unit or self.unit,
                value=value,
            )
        )

    def normal_ancs(self, days: list[int], low: int = 2000, high: int = 5200) -> None:
        """Unremarkable ANCs on the given days, drawn from [low, high] in steps of 10 cells/uL."""
        for day in days:
            self.anc(day, self.rng.randrange(low, high + 1, 10))

    def masked_anc(self, day: int) -> None:
        """A preliminary ANC whose value is masked until the lab releases it."""
        test = self.anc_test
        self.resources.append(
            labs.masked_observation(self._next_id("lab"), self.patient_id, test, self.at(day))
        )

    def differential(
        self, day: int, wbc_per_ul: int, neutrophil_percent: float, band_percent: float
    ) -> None:
        """WBC, neutrophil % and band % at one instant, with no ANC reported."""
        moment = self.at(day)
        self.resources += [
            labs.count_observation(
                self._next_id("lab"), self.patient_id, codes.WBC, moment, wbc_per_ul, self.unit
            ),
            labs.percent_observation(
                self._next_id("lab"),
                self.patient_id,
                codes.NEUTROPHIL_PERCENT,
                moment,
                neutrophil_percent,
            ),
            labs.percent_observation(
                self._next_id("lab"), self.patient_id, codes.BAND_PERCENT, moment, band_percent
            ),
        ]

    def order(
        self,
        drug: Drug = codes.CLOZAPINE_25,
        *,
        start: int,
        end: int | None = None,
        status: str = "active",
        authored: int | None = None,
        form: MedicationForm = "concept",
        medication_id: str = "",
    ) -> None:
        """An order starting on day `start`; `end` is the therapy's real end (boundsPeriod.end)."""
        start_at = self.at(start, hour=15)
        self.resources.append(
            clinical.medication_request(
                self._next_id("rx"),
                self.patient_id,
                drug,
                status=status,
                authored_at=start_at if authored is None else self.at(authored, hour=15),
                start_at=start_at,
                end_at=None if end is None else self.at(end, hour=15),
                prescriber=self.prescriber,
                form=form,
                medication_id=medication_id,
            )
        )

    def problem(self, text: str, *, onset: int, coding: FhirJson | None = None) -> None:
        """An active problem-list Condition, recorded on its onset day by the prescriber."""
        self.resources.append(
            clinical.condition(
                self._next_id("dx"),
                self.patient_id,
                text=text,
                onset=self.as_of + timedelta(days=onset),
                recorded_at=self.at(onset, hour=16),
                recorder=self.prescriber.practitioner,
                coding=coding,
            )
        )

    def routine_history(self, start: int, last: int, *, low: int = 2000, high: int = 5200) -> None:
        """A baseline 2 days before `start`, then draws at the routine interval ending on `last`."""
        self.normal_ancs([start - 2, *routine_days(start, last)], low, high)


def routine_days(start: int, last: int) -> list[int]:
    """Draw days from `start` through `last` at the routine interval, ending exactly on `last`."""
    days = []
    day = last
    while day >= start:
        days.append(day)
        day -= routine_interval_days(day - start)
    return sorted(days)
