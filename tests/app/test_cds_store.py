"""The CDS Hooks records on SQLite and PostgreSQL: a jti used once across instances, cards kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from smartapp.db import Database
from smartapp.db.cds_store import CardStore, IssuedCard, JwtIdLedger

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
ISS = "https://ehr.example.org/cds"


def test_cds_store_jti_is_used_once_across_instances(database_url) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        expires = NOW + timedelta(minutes=5)
        assert JwtIdLedger(first).use(ISS, "jti-1", expires, now=NOW)
        assert not JwtIdLedger(second).use(ISS, "jti-1", expires, now=NOW)
        assert JwtIdLedger(second).use("https://other.example.org/cds", "jti-1", expires, now=NOW)
    finally:
        first.dispose()
        second.dispose()


def test_cds_store_concurrent_uses_of_one_jti_let_exactly_one_through(database_url) -> None:
    instances = [Database(database_url) for _ in range(4)]
    try:
        expires = NOW + timedelta(minutes=5)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(
                pool.map(
                    lambda db: JwtIdLedger(db).use(ISS, "jti-race", expires, now=NOW), instances
                )
            )
        assert sorted(results) == [False, False, False, True]
    finally:
        for instance in instances:
            instance.dispose()


def test_cds_store_spent_jtis_are_deleted_on_the_way(database) -> None:
    ledger = JwtIdLedger(database)
    assert ledger.use(ISS, "old", NOW, now=NOW - timedelta(minutes=5))
    assert ledger.use(ISS, "new", NOW + timedelta(minutes=10), now=NOW + timedelta(minutes=1))
    assert ledger.use(ISS, "old", NOW + timedelta(minutes=10), now=NOW + timedelta(minutes=1))


def test_cds_store_cards_are_kept_per_issuer_and_overrides_match_the_same_findings(
    database,
) -> None:
    cards = CardStore(database)
    findings = ("monitoring-overdue/2026-11-17", "rems-eliminated/2026-11-25")
    cards.add(IssuedCard("c-1", "iss-a", "svc", "Patient/p", "Practitioner/u", findings, NOW, None))
    assert cards.get("iss-b", "c-1") is None
    card = cards.get("iss-a", "c-1")
    assert card is not None and card.findings == findings and card.user == "Practitioner/u"
    assert not cards.overridden("iss-a", "Patient/p", findings)
    cards.mark_overridden("iss-a", "c-1", NOW)
    assert cards.overridden("iss-a", "Patient/p", tuple(reversed(findings)))
    assert not cards.overridden("iss-b", "Patient/p", findings)
    assert not cards.overridden("iss-a", "Patient/p", ("monitoring-overdue/2026-11-24",))
