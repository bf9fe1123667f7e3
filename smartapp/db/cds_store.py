"""The CDS Hooks service's records: each JWT id used once, and the cards it answered with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from smartapp.db.base import utc_now
from smartapp.db.cds_models import CdsCardRow, CdsJwtIdRow
from smartapp.db.database import Database


class JwtIdLedger:
    """`jti` values seen per CDS client, kept until their JWT expires (CDS Hooks 2.0: a `jti`
    is used once). The primary key makes a replay collide in every instance on the database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def use(self, iss: str, jti: str, expires_at: datetime, *, now: datetime | None = None) -> bool:
        """Record the id; False when it was used before (a replay). Expired ids go on the way."""
        now = now or utc_now()
        try:
            with self._database.transaction() as session:  # one commit per request
                session.execute(delete(CdsJwtIdRow).where(CdsJwtIdRow.expires_at < now))
                session.add(CdsJwtIdRow(iss=iss, jti=jti, expires_at=expires_at))
                session.flush()
        except IntegrityError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A card the service answered with: the findings as `code/period` keys."""

    uuid: str
    iss: str
    service: str
    patient: str
    user: str | None
    findings: tuple[str, ...]
    issued_at: datetime
    overridden_at: datetime | None


class CardStore:
    """Cards answered, so feedback can name what a card said and overrides silence repeats."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, card: IssuedCard) -> None:
        """Keep one card."""
        with self._database.transaction() as session:
            session.add(
                CdsCardRow(
                    uuid=card.uuid,
                    iss=card.iss,
                    service=card.service,
                    patient=card.patient,
                    user=card.user,
                    findings=list(card.findings),
                    issued_at=card.issued_at,
                    overridden_at=card.overridden_at,
                )
            )

    def get(self, iss: str, uuid: str) -> IssuedCard | None:
        """The card with this id answered at this EHR, if there is one."""
        with self._database.transaction() as session:
            row = session.get(CdsCardRow, uuid)
            if row is None or row.iss != iss:
                return None
            return _card(row)

    def mark_overridden(self, iss: str, uuid: str, at: datetime) -> None:
        """Record that the prescriber overrode the card."""
        with self._database.transaction() as session:
            session.execute(
                update(CdsCardRow)
                .where(CdsCardRow.uuid == uuid, CdsCardRow.iss == iss)
                .values(overridden_at=at)
            )

    def overridden(self, iss: str, patient: str, findings: tuple[str, ...]) -> bool:
        """Whether a card with exactly these findings (and periods) was overridden for the patient."""
        query = select(CdsCardRow.findings).where(
            CdsCardRow.iss == iss,
            CdsCardRow.patient == patient,
            CdsCardRow.overridden_at.is_not(None),
        )
        wanted = sorted(findings)
        with self._database.transaction() as session:
            return any(sorted(found) == wanted for found in session.execute(query).scalars())


def _card(row: CdsCardRow) -> IssuedCard:
    return IssuedCard(
        uuid=row.uuid,
        iss=row.iss,
        service=row.service,
        patient=row.patient,
        user=row.user,
        findings=tuple(str(f) for f in row.findings),
        issued_at=row.issued_at,
        overridden_at=row.overridden_at,
    )
