"""Alembic environment: runs on the connection memvault hands it (see store/migrator.py)."""

from __future__ import annotations

from alembic import context

from memvault.store.migrator import VERSION_TABLE
from memvault.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("memvault migrations run through memvault.store.migrator, not the CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
