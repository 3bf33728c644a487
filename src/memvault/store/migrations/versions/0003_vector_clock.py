"""vector change counter: what an in-memory vector matrix needs to refresh incrementally

Every embedding write bumps a counter per (owner, model) in `vector_clock` and stamps the row
with it (`embeddings.seq`); every delete (cascades included) leaves a `vector_tombstones` row
with the counter value. A process holding a matrix reads the counter on each query and fetches
only rows and tombstones newer than what it holds, so another process's writes (and deletions)
are visible at its next query. The counter row is updated in the writing transaction, so on
PostgreSQL its row lock orders concurrent writers: a counter value that is visible means every
smaller value is committed. Deleting a user removes its counters and tombstones.

On PostgreSQL with pgvector available, `embeddings.vec vector` mirrors the float32 bytes (for
optional HNSW indexes per model, see memvault.search.vectors).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:30:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_OWNER_NEW = "coalesce(new.user_id, '')"
SQLITE_OWNER_OLD = "coalesce(old.user_id, '')"


def _sqlite_bump(owner: str, model: str) -> str:
    return (
        f"INSERT INTO vector_clock(owner, model, value) VALUES ({owner}, {model}, 1) "
        "ON CONFLICT(owner, model) DO UPDATE SET value = value + 1;"
    )


def _sqlite_tombstone(owner: str) -> str:
    return (
        "INSERT INTO vector_tombstones(owner, model, seq, memory_id, message_id) "
        f"SELECT {owner}, old.model, value, old.memory_id, old.message_id FROM vector_clock "
        f"WHERE owner = {owner} AND model = old.model;"
    )


def _sqlite_stamp() -> str:
    return (
        "UPDATE embeddings SET seq = (SELECT value FROM vector_clock "
        f"WHERE owner = {SQLITE_OWNER_NEW} AND model = new.model) WHERE rowid = new.rowid;"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE TABLE vector_clock (owner TEXT NOT NULL, model TEXT NOT NULL, "
        "value INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (owner, model))"
    )
    op.execute(
        "CREATE TABLE vector_tombstones (owner TEXT NOT NULL, model TEXT NOT NULL, "
        "seq INTEGER NOT NULL, memory_id TEXT, message_id TEXT)"
    )
    op.execute("CREATE INDEX ix_vector_tombstones_owner_model_seq ON vector_tombstones "
               "(owner, model, seq)")  # fmt: skip
    op.execute("ALTER TABLE embeddings ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
    op.execute("CREATE INDEX ix_embeddings_user_id_model_seq ON embeddings (user_id, model, seq)")
    op.execute(
        "CREATE TRIGGER embeddings_clock_ai AFTER INSERT ON embeddings BEGIN "
        + _sqlite_bump(SQLITE_OWNER_NEW, "new.model")
        + _sqlite_stamp()
        + " END"
    )
    op.execute(
        "CREATE TRIGGER embeddings_clock_au AFTER UPDATE OF user_id, memory_id, message_id, "
        "model, dim, vector ON embeddings BEGIN "
        + _sqlite_bump(SQLITE_OWNER_OLD, "old.model")
        + _sqlite_tombstone(SQLITE_OWNER_OLD)
        + _sqlite_bump(SQLITE_OWNER_NEW, "new.model")
        + _sqlite_stamp()
        + " END"
    )
    op.execute(
        "CREATE TRIGGER embeddings_clock_ad AFTER DELETE ON embeddings BEGIN "
        + _sqlite_bump(SQLITE_OWNER_OLD, "old.model")
        + _sqlite_tombstone(SQLITE_OWNER_OLD)
        + " END"
    )
    op.execute(
        "CREATE TRIGGER users_vector_clock_ad AFTER DELETE ON users BEGIN "
        "DELETE FROM vector_tombstones WHERE owner = old.id; "
        "DELETE FROM vector_clock WHERE owner = old.id; END"
    )
    # Existing rows: one stamp per (owner, model), so a fresh matrix loads them all.
    op.execute(
        "INSERT INTO vector_clock(owner, model, value) "
        "SELECT DISTINCT coalesce(user_id, ''), model, 1 FROM embeddings"
    )
    op.execute("UPDATE embeddings SET seq = 1")


def _sqlite_downgrade() -> None:
    for trig in ("embeddings_clock_ai", "embeddings_clock_au", "embeddings_clock_ad",
                 "users_vector_clock_ad"):  # fmt: skip
        op.execute(f"DROP TRIGGER IF EXISTS {trig}")
    op.execute("DROP INDEX IF EXISTS ix_embeddings_user_id_model_seq")
    with op.batch_alter_table("embeddings") as batch:
        batch.drop_column("seq")
    op.execute("DROP TABLE IF EXISTS vector_tombstones")
    op.execute("DROP TABLE IF EXISTS vector_clock")


PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION memvault_vector_bump(p_owner text, p_model text) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO vector_clock(owner, model, value) VALUES (p_owner, p_model, 1)
  ON CONFLICT (owner, model) DO UPDATE SET value = vector_clock.value + 1
  RETURNING value
$$;

CREATE OR REPLACE FUNCTION memvault_embeddings_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.user_id IS NOT DISTINCT FROM OLD.user_id AND NEW.model = OLD.model
       AND NEW.memory_id IS NOT DISTINCT FROM OLD.memory_id
       AND NEW.message_id IS NOT DISTINCT FROM OLD.message_id
       AND NEW.vector = OLD.vector THEN
      RETURN NEW;
    END IF;
    INSERT INTO vector_tombstones(owner, model, seq, memory_id, message_id)
    VALUES (coalesce(OLD.user_id::text, ''), OLD.model,
            memvault_vector_bump(coalesce(OLD.user_id::text, ''), OLD.model),
            OLD.memory_id, OLD.message_id);
  END IF;
  NEW.seq := memvault_vector_bump(coalesce(NEW.user_id::text, ''), NEW.model);
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION memvault_embeddings_tombstone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vector_tombstones(owner, model, seq, memory_id, message_id)
  VALUES (coalesce(OLD.user_id::text, ''), OLD.model,
          memvault_vector_bump(coalesce(OLD.user_id::text, ''), OLD.model),
          OLD.memory_id, OLD.message_id);
  RETURN OLD;
END $$;

CREATE OR REPLACE FUNCTION memvault_users_vector_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM vector_tombstones WHERE owner = OLD.id::text;
  DELETE FROM vector_clock WHERE owner = OLD.id::text;
  RETURN OLD;
END $$;
"""


def _pg_upgrade() -> None:
    bind = op.get_bind()
    op.execute(
        "CREATE TABLE vector_clock (owner text NOT NULL, model text NOT NULL, "
        "value bigint NOT NULL DEFAULT 0, PRIMARY KEY (owner, model))"
    )
    op.execute(
        "CREATE TABLE vector_tombstones (owner text NOT NULL, model text NOT NULL, "
        "seq bigint NOT NULL, memory_id uuid, message_id uuid)"
    )
    op.execute("CREATE INDEX ix_vector_tombstones_owner_model_seq ON vector_tombstones "
               "(owner, model, seq)")  # fmt: skip
    op.execute("ALTER TABLE embeddings ADD COLUMN seq bigint NOT NULL DEFAULT 0")
    op.execute("CREATE INDEX ix_embeddings_user_id_model_seq ON embeddings (user_id, model, seq)")
    bind.exec_driver_sql(PG_FUNCTIONS)
    op.execute(
        "CREATE TRIGGER embeddings_clock_biu BEFORE INSERT OR UPDATE ON embeddings "
        "FOR EACH ROW EXECUTE FUNCTION memvault_embeddings_stamp()"
    )
    op.execute(
        "CREATE TRIGGER embeddings_clock_ad AFTER DELETE ON embeddings "
        "FOR EACH ROW EXECUTE FUNCTION memvault_embeddings_tombstone()"
    )
    op.execute(
        "CREATE TRIGGER users_vector_clock_ad AFTER DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION memvault_users_vector_forget()"
    )
    op.execute(
        "INSERT INTO vector_clock(owner, model, value) "
        "SELECT DISTINCT coalesce(user_id::text, ''), model, 1 FROM embeddings"
    )
    op.execute("ALTER TABLE embeddings DISABLE TRIGGER embeddings_clock_biu")
    op.execute("UPDATE embeddings SET seq = 1")
    op.execute("ALTER TABLE embeddings ENABLE TRIGGER embeddings_clock_biu")
    has_vector = bind.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if has_vector is not None:
        nested = bind.begin_nested()
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
            bind.exec_driver_sql("ALTER TABLE embeddings ADD COLUMN vec vector")
        except Exception:
            nested.rollback()
            return
        nested.commit()
        _pg_backfill_vec()


def _pg_backfill_vec() -> None:
    import numpy as np

    bind = op.get_bind()
    rows = bind.execute(text("SELECT id, vector FROM embeddings")).all()
    for row in rows:
        vec = np.frombuffer(bytes(row[1]), dtype="<f4")
        literal = "[" + ",".join(repr(float(x)) for x in vec) + "]"
        bind.execute(
            text("UPDATE embeddings SET vec = CAST(:v AS vector) WHERE id = :id"),
            {"v": literal, "id": row[0]},
        )


def _pg_downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS users_vector_clock_ad ON users")
    op.execute("DROP TRIGGER IF EXISTS embeddings_clock_ad ON embeddings")
    op.execute("DROP TRIGGER IF EXISTS embeddings_clock_biu ON embeddings")
    for fn in ("memvault_users_vector_forget()", "memvault_embeddings_tombstone()",
               "memvault_embeddings_stamp()", "memvault_vector_bump(text, text)"):  # fmt: skip
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("ALTER TABLE embeddings DROP COLUMN IF EXISTS vec")
    op.execute("DROP INDEX IF EXISTS ix_embeddings_user_id_model_seq")
    op.execute("ALTER TABLE embeddings DROP COLUMN IF EXISTS seq")
    op.execute("DROP TABLE IF EXISTS vector_tombstones")
    op.execute("DROP TABLE IF EXISTS vector_clock")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _pg_downgrade()
