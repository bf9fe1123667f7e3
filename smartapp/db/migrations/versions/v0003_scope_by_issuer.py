"""The program registry and the audit trail are kept per EHR (0003).

A reference such as `Patient/123` names a record only at the EHR that issued it, so the
registry tables gain `iss` and their unique keys lead with it, and every audit event names its
EHR (`audit_events.iss` becomes required, with an index for each EHR's trail). The write-back
ledger was keyed by issuer from the start.

Rows stored before this revision are moved to the issuer the operator names
(`smartapp db upgrade --issuer <iss>`), else to the only issuer of SMARTAPP_ISSUERS_FILE; with
several issuers and none named the upgrade refuses rather than guess, before changing anything.
The downgrade refuses while the registry holds records of more than one EHR.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from smartapp.db.migrations import MigrationRefused, issuer_for_existing_rows

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each registry table and its key before this revision (the key then leads with `iss`).
REGISTRY_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prescribers", ("practitioner_reference",)),
    ("pharmacies", ("organization_reference",)),
    ("patient_enrollments", ("patient_reference", "enrolled_on")),
    ("status_forms", ("patient_reference", "submitted_on")),
)


def _table(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("iss", sa.String()))


def _count(connection: sa.Connection, table: sa.TableClause, *where: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(*where)
    return int(connection.execute(query).scalar_one())


def _unscoped_rows(connection: sa.Connection) -> int:
    registry = sum(_count(connection, _table(t)) for t, _ in REGISTRY_KEYS)
    audit = _table("audit_events")
    return registry + _count(connection, audit, audit.c.iss.is_(None))


def upgrade() -> None:
    connection = op.get_bind()
    waiting = _unscoped_rows(connection)
    issuer = None
    if waiting:
        what = f"{waiting} registry records and audit events"
        issuer = issuer_for_existing_rows(context.config.attributes, what)
    for table, key in REGISTRY_KEYS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("iss", sa.String(), nullable=True))
        if issuer is not None:
            connection.execute(sa.update(_table(table)).values(iss=issuer))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("iss", existing_type=sa.String(), nullable=False)
            batch.drop_constraint(op.f(f"uq_{table}_{'_'.join(key)}"), type_="unique")
            batch.create_unique_constraint(op.f(f"uq_{table}_iss_{'_'.join(key)}"), ["iss", *key])
    if issuer is not None:
        audit = _table("audit_events")
        connection.execute(sa.update(audit).where(audit.c.iss.is_(None)).values(iss=issuer))
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("iss", existing_type=sa.String(), nullable=False)
    op.create_index("ix_audit_events_iss_at", "audit_events", ["iss", "at"])


def downgrade() -> None:
    connection = op.get_bind()
    issuers: set[str] = set()
    for table, _ in REGISTRY_KEYS:
        query = sa.select(_table(table).c.iss).distinct()
        issuers.update(connection.execute(query).scalars())
    if len(issuers) > 1:
        raise MigrationRefused(
            f"the registry holds records of {len(issuers)} EHRs ({', '.join(sorted(issuers))});"
            " revision 0002 keeps one EHR's registry only, so export each EHR's records"
            " (`smartapp registry export --issuer <iss>`) and delete all but one first"
        )
    op.drop_index("ix_audit_events_iss_at", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("iss", existing_type=sa.String(), nullable=True)
    for table, key in REGISTRY_KEYS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"uq_{table}_iss_{'_'.join(key)}"), type_="unique")
            batch.create_unique_constraint(op.f(f"uq_{table}_{'_'.join(key)}"), list(key))
            batch.drop_column("iss")
