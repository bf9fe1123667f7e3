"""A CDS request's fhirAuthorization is used for its reads and kept nowhere: no table row, no log."""

from __future__ import annotations

import responses
from sqlalchemy import Engine, MetaData, select

from smartapp.app import create_app
from tests.app.fake_ehr import FakeEhr
from tests.app.test_cds_service import FHIR_TOKEN, PV, _authorized, _frozen, app_config, call
from tests.app.test_error_messages import log_lines

__all__ = ["_frozen", "app_config"]  # the CDS service tests' settings and clock


def _stored_text(engine: Engine) -> dict[str, list[str]]:
    """Every table's rows, each value as text (bytes decoded as far as they go)."""
    tables = MetaData()
    tables.reflect(engine)
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            values: list[str] = []
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        values.append(bytes(value).decode("utf-8", "replace"))
                    else:
                        values.append(str(value))
            found[table.name] = values
    return found


def test_cds_fhir_authorization_is_in_no_table_and_no_log_line(app_config, capsys) -> None:
    # Made here, logging at DEBUG, so that its log handler writes to this test's capture.
    app = create_app({**app_config, "LOG_LEVEL": "DEBUG"})
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            FakeEhr(anc_on="2026-11-01").install(mock)
            response = call(app.test_client(), PV, _authorized({"patient": None}))
            sent = [c.request.headers.get("Authorization") for c in mock.calls]
        assert response.status_code == 200
        [card] = response.get_json()["cards"]
        assert f"Bearer {FHIR_TOKEN}" in sent  # the token was given and used...
        stored = _stored_text(app.extensions["smartapp"].database.engine)
    finally:
        app.extensions["smartapp"].close()
    rows = [value for values in stored.values() for value in values]
    assert any(card["uuid"] in value for value in rows)  # ...the request's card is stored...
    holding = sorted(
        name for name, values in stored.items() if any(FHIR_TOKEN in v for v in values)
    )
    assert holding == []  # ...and the token is in no table
    logged = capsys.readouterr().err
    assert log_lines(logged), logged[:300]  # the request was logged, at DEBUG...
    assert FHIR_TOKEN not in logged  # ...and no line holds the token


def test_cds_table_scan_reads_every_table(app) -> None:
    """The scan reads what the tables hold: a value written to any table is found."""
    engine = app.extensions["smartapp"].database.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scan_probe (kept BLOB)")
        connection.exec_driver_sql(
            "INSERT INTO scan_probe VALUES (?)", (f"token={FHIR_TOKEN}".encode(),)
        )
    assert any(FHIR_TOKEN in value for value in _stored_text(engine)["scan_probe"])
