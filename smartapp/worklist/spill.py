"""The spill to disk: every line kept in SQLite by patient, so memory stays flat at any size.

A run's own temporary database (journal off: it is thrown away with the run). Consecutive lines
of one patient in one file are kept as one row (the usual shape of a Bulk Data file), so the
store costs little beside reading the JSON. Rows come back grouped by patient, in file and line
order; the evaluations come back in the urgency order (`ordering.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

_SCHEMA = """
CREATE TABLE patient (key TEXT PRIMARY KEY, file INTEGER, line INTEGER, body BLOB) WITHOUT ROWID;
CREATE TABLE chunk (owner TEXT, file INTEGER, line INTEGER, body BLOB);
CREATE INDEX chunk_owner ON chunk (owner, file, line);
CREATE TABLE shared (key TEXT PRIMARY KEY, file INTEGER, line INTEGER, body BLOB) WITHOUT ROWID;
CREATE TABLE unusable (key TEXT, file INTEGER, line INTEGER);
CREATE INDEX unusable_key ON unusable (key, file, line);
CREATE TABLE result (
    rank INTEGER, no_anc INTEGER, overdue INTEGER, next_due TEXT, patient TEXT,
    evaluation TEXT, name TEXT, mrn TEXT, prescriber TEXT, complete INTEGER, phone TEXT,
    problems TEXT
);
CREATE INDEX result_order ON result (rank, no_anc DESC, overdue DESC, next_due IS NULL, next_due, patient);
"""
# Indexes are kept as rows arrive, never built by one sort at the end: SQLite's page cache
# (PRAGMA cache_size) then bounds the memory whatever the number of patients.
# Rows are written in batches of this many (one executemany each), chunks up to this size.
BATCH = 500
BATCH_BYTES = 4 * 1024 * 1024
# Separates the lines of one chunk (a raw newline cannot occur inside an NDJSON line).
LINE_BREAK = b"\n"


class SpillStore:
    """One run's lines and evaluations on disk; `close()` removes nothing (the folder does)."""

    def __init__(self, folder: Path) -> None:
        self._db = sqlite3.connect(folder / "worklist.sqlite3", isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;"
            "PRAGMA cache_size = -16000;" + _SCHEMA
        )
        self._db.execute("BEGIN")
        self._chunks: list[tuple[str, int, int, bytes]] = []
        self._chunk_bytes = 0
        self._results: list[tuple[object, ...]] = []

    def add_patient(self, key: str, file: int, line: int, body: bytes) -> bool:
        """Keep a Patient (the first line naming it wins); False when it was already there."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO patient VALUES (?, ?, ?, ?)", (key, file, line, body)
        )
        return cursor.rowcount == 1

    def add_shared(self, key: str, file: int, line: int, body: bytes) -> None:
        """Keep a Medication, Practitioner, PractitionerRole or Organization (first one wins)."""
        self._db.execute(
            "INSERT OR IGNORE INTO shared VALUES (?, ?, ?, ?)", (key, file, line, body)
        )

    def add_chunk(self, owner: str, file: int, first_line: int, lines: list[bytes]) -> None:
        """Consecutive lines of one patient's resources, the first at `first_line` of `file`."""
        body = LINE_BREAK.join(lines)
        self._chunks.append((owner, file, first_line, body))
        self._chunk_bytes += len(body)
        if len(self._chunks) >= BATCH or self._chunk_bytes >= BATCH_BYTES:
            self._flush_chunks()

    def add_unusable(self, keys: Iterable[str], file: int, line: int) -> None:
        """An unusable line and the references it seems to name (whose data it leaves out)."""
        self._db.executemany(
            "INSERT INTO unusable VALUES (?, ?, ?)", [(key, file, line) for key in keys]
        )

    def loaded(self) -> None:
        """Every line is in: the grouped reading can start."""
        self._flush_chunks()
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def patient_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM patient").fetchone()[0])

    def patients_with_chunks(
        self,
    ) -> Iterator[tuple[str, int, int, bytes, list[tuple[int, int, bytes]]]]:
        """Each Patient (key, file, line, body) with its chunks (file, first line, lines), by key."""
        patients = self._db.execute("SELECT key, file, line, body FROM patient ORDER BY key")
        chunks = self._db.cursor().execute(
            "SELECT owner, file, line, body FROM chunk ORDER BY owner, file, line"
        )
        pending = chunks.fetchone()
        for key, file, line, body in patients:
            own: list[tuple[int, int, bytes]] = []
            while pending is not None and pending[0] <= key:
                if pending[0] == key:
                    own.append((pending[1], pending[2], pending[3]))
                pending = chunks.fetchone()
            yield key, file, line, body, own

    def orphans(self) -> Iterator[tuple[str, int]]:
        """References named by resources whose Patient is not in the export, with their counts."""
        return iter(
            self._db.cursor().execute(
                "SELECT owner, count(*) FROM chunk LEFT JOIN patient ON patient.key = chunk.owner"
                " WHERE patient.key IS NULL GROUP BY owner ORDER BY owner"
            )
        )

    def shared(self, key: str) -> tuple[int, int, bytes] | None:
        """The shared resource stored under "Type/id": (file, line, body), or None."""
        row = self._db.execute(
            "SELECT file, line, body FROM shared WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def unusable_lines(self, key: str) -> list[tuple[int, int]]:
        """(file, line) of the unusable lines that seem to name `key`."""
        return self._db.execute(
            "SELECT file, line FROM unusable WHERE key = ? ORDER BY file, line", (key,)
        ).fetchall()

    def add_result(self, row: tuple[object, ...]) -> None:
        """One evaluation with its sort columns and CSV cells (the `result` table's order)."""
        self._results.append(row)
        if len(self._results) >= BATCH:
            self._flush_results()

    def results(self) -> Iterator[tuple[str, str, str, str, str, int, str, str]]:
        """(patient, evaluation JSON, name, MRN, prescriber, complete, phone, what could not be
        read as a JSON list) in the urgency order."""
        self._flush_results()
        return iter(
            self._db.execute(
                "SELECT patient, evaluation, name, mrn, prescriber, complete, phone, problems"
                " FROM result"
                " ORDER BY rank, no_anc DESC, overdue DESC, next_due IS NULL, next_due, patient"
            )
        )

    def close(self) -> None:
        self._db.close()

    def _flush_chunks(self) -> None:
        self._db.executemany("INSERT INTO chunk VALUES (?, ?, ?, ?)", self._chunks)
        self._chunks.clear()
        self._chunk_bytes = 0

    def _flush_results(self) -> None:
        self._db.executemany(
            "INSERT INTO result VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._results
        )
        self._results.clear()
