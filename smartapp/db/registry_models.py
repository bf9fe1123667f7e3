"""Tables of the clozapine program registry: certifications, enrollments and status forms.

Every row belongs to one EHR (`iss`): a reference means something only at the EHR that issued it,
so each key leads with the issuer and no record of one EHR ever counts at another.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartapp.db.base import Base

ENROLLMENT_STATUSES = ("active", "interrupted", "discontinued")


class PrescriberRow(Base):
    """A prescriber's certification in the program (one current record per practitioner)."""

    __tablename__ = "prescribers"
    __table_args__ = (UniqueConstraint("iss", "practitioner_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str]
    practitioner_reference: Mapped[str]
    display_name: Mapped[str | None]
    certified_on: Mapped[date]
    expires_on: Mapped[date | None]
    updated_at: Mapped[datetime]


class PharmacyRow(Base):
    """A pharmacy's certification in the program (one current record per organization)."""

    __tablename__ = "pharmacies"
    __table_args__ = (UniqueConstraint("iss", "organization_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str]
    organization_reference: Mapped[str]
    name: Mapped[str | None]
    certified_on: Mapped[date]
    expires_on: Mapped[date | None]
    updated_at: Mapped[datetime]


class PatientEnrollmentRow(Base):
    """A patient's enrollment, one row per enrollment date (re-enrollment adds a row)."""

    __tablename__ = "patient_enrollments"
    __table_args__ = (
        UniqueConstraint("iss", "patient_reference", "enrolled_on"),
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in ENROLLMENT_STATUSES)),
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str]
    patient_reference: Mapped[str]
    enrolled_on: Mapped[date]
    prescriber_reference: Mapped[str | None]
    status: Mapped[str]
    expires_on: Mapped[date | None]
    updated_at: Mapped[datetime]


class StatusFormRow(Base):
    """A Patient Status Form submitted for a patient, with the ANC it reported if recorded."""

    __tablename__ = "status_forms"
    # The unique index leads with the EHR and the patient, so it also serves lookups by patient.
    __table_args__ = (UniqueConstraint("iss", "patient_reference", "submitted_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str]
    patient_reference: Mapped[str]
    submitted_on: Mapped[date]
    anc_reported_per_ul: Mapped[int | None]
    updated_at: Mapped[datetime]
