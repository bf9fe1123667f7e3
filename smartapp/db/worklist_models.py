"""Tables of the stored worklist runs: one row per run, one row per patient evaluated in it.

Every row belongs to one EHR (`iss`): a patient reference means something only there. A run is
written whole in one transaction, so a page never sees half a run.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartapp.db.base import Base


class WorklistRunRow(Base):
    """One `smartapp worklist fetch`: which EHR and Group, when, under which policy, its counts.

    `counts` holds the overall statuses (`by_status`) and what could not be used (`incomplete`,
    `not_evaluated`, `orphans`, `export_errors`, `lines`, `unusable_lines`).
    """

    __tablename__ = "worklist_runs"
    __table_args__ = (Index("ix_worklist_runs_iss_finished_at", "iss", "finished_at"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    iss: Mapped[str]
    group_id: Mapped[str | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    export_time: Mapped[str | None]
    as_of: Mapped[date]
    policy: Mapped[str]
    patients: Mapped[int]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class WorklistPatientRow(Base):
    """One patient of a run, in worklist order (`position`): the cells a coordinator filters
    and orders by, whether every one of the patient's resources could be read
    (`data_complete`), and, encrypted whole with the app's token key (`phi_encrypted`), the
    name, MRN, phone ("" when the Patient has none) and the evaluation JSON `smartapp
    evaluate` prints."""

    __tablename__ = "worklist_patients"
    __table_args__ = (Index("ix_worklist_patients_iss_patient", "iss", "patient"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("worklist_runs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str]
    patient: Mapped[str]
    overall: Mapped[str]
    prescriber: Mapped[str]
    next_due: Mapped[date | None]
    days_overdue: Mapped[int | None]
    data_complete: Mapped[bool]
    phi_encrypted: Mapped[str] = mapped_column(Text)
