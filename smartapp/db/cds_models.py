"""Tables of the CDS Hooks service: JWT ids seen (replay guard) and the cards it answered with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartapp.db.base import Base

JTI_MAX_LENGTH = 200


class CdsJwtIdRow(Base):
    """One `jti` a CDS client used, kept until its JWT expires; the primary key makes a second
    use collide, in any instance sharing the database."""

    __tablename__ = "cds_jwt_ids"
    __table_args__ = (Index("ix_cds_jwt_ids_expires_at", "expires_at"),)

    iss: Mapped[str] = mapped_column(String(), primary_key=True)
    jti: Mapped[str] = mapped_column(String(JTI_MAX_LENGTH), primary_key=True)
    expires_at: Mapped[datetime]


class CdsCardRow(Base):
    """A card the service answered with: which EHR, service and patient, the user it was shown to and the
    findings (code and write-back period) it was about, so feedback can name them and an override silences
    patient-view until a period changes. References and codes only."""

    __tablename__ = "cds_cards"
    __table_args__ = (Index("ix_cds_cards_iss_patient", "iss", "patient"),)

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    iss: Mapped[str]
    service: Mapped[str]
    patient: Mapped[str]
    user: Mapped[str | None]
    findings: Mapped[list[Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime]
    overridden_at: Mapped[datetime | None]
