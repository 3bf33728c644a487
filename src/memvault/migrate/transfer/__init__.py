"""Store → store transfer: SQLite → PostgreSQL, and back, and between two of either.

    result = transfer("sqlite:///memvault.db", "postgresql://host/memvault")
    result.ok            # every table: same row count and same content checksum

It runs over the store interface (`Store` / `Tx`) of both ends; its modules are named for
what they hold: `tables` (what is copied), `source` (reading it), `values` (between
engines), `destination` (its schema, indexes and foreign keys), `copying` (a table, batch by
batch), `resume` (the run and its checkpoints), `verification` (checksums), `result`, and
`driver` (the whole run).

How it works:

* The destination gets memvault's schema (created or upgraded by the migrator); the source
  must be at the same (newest) revision. The destination must be empty, or hold an
  unfinished transfer *from the same source*, which is then resumed.
* Tables are copied in foreign-key order, each in primary-key order (keyset: `WHERE pk >
  last`), from one read snapshot of the source (`Store.snapshot`); the next batch is read
  and converted on a thread while the current one is written (`prefetch`). Rows go in
  through `Tx.load_rows`: PostgreSQL receives them through `COPY` and, from a SQLite source,
  takes the largest table on a second connection beside the others; SQLite receives them
  through a staging table and `INSERT … SELECT`. Every batch commits together with its
  checkpoint (`import_runs` / `import_checkpoints` rows of the destination, kept by
  `migrate.runs`: the last primary key copied per table), so a killed transfer resumes where
  it stopped and never duplicates a row.
* Plain (non-unique) indexes of the destination, full-text GIN indexes included, are dropped
  while loading and rebuilt at the end. Foreign keys are checked in bulk after the load:
  PostgreSQL's are dropped with the run and re-added (which validates every row) at the end,
  SQLite's are off on the destination store's connections and `PRAGMA foreign_key_check`
  must come back empty. Primary keys, unique indexes and CHECKs stay in force during the
  whole load. (So parents never have to come first, e.g. `sessions.parent_id`.) An unfinished
  destination therefore lacks those indexes and foreign keys until the transfer is resumed
  to its end: resume it, or drop it; do not use it.
* Derived data is rebuilt by the destination itself: the PostgreSQL `fts` columns are
  generated, SQLite's FTS5 tables are filled by their triggers, the vector change counter and
  the emotion rollups by their triggers, and pgvector's `embeddings.vec` is written from the
  float32 bytes. Vector tombstones are not copied (a new matrix needs none).
* Verification, always: per table, the row count and an order-independent checksum (the sum
  modulo 2^128 of an MD5 digest of each row's canonical rendering, see `rowdigest`) of the
  source snapshot and of what the destination holds after the load. A PostgreSQL
  destination computes its checksums itself, in SQL, on a second connection while the next
  table copies, so no row is read back. Any difference raises `VerificationFailed` (CLI exit
  status 3); the run row stays, marked `mismatch`.

Values, explicitly:

* Times are rendered `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC). SQLite text that is not an ISO-8601
  time, and PostgreSQL times outside years 1–9999 (`infinity`, BC dates), are refused with
  an error naming the table, the row's primary key and the column. Naive SQLite times are UTC
  (memvault never writes them); offsets are converted to UTC.
* NUL bytes: PostgreSQL `text`/`jsonb` cannot hold U+0000, so a NUL in a SQLite text value
  is refused with the table, row and column named; nothing is escaped or stripped silently.
  Fix the row (or delete it) and run the same command again: the transfer resumes.
* Floats are copied bit for bit (`double precision`, extremes and subnormals included), except
  that SQLite cannot store NaN (it would become NULL): a NaN read from PostgreSQL is refused.
  SQLite folds -0.0 into 0.0; the checksum renders both as 0.0.
* JSON is copied as text (jsonb on PostgreSQL); the checksum compares the value as jsonb
  holds it (key order, duplicate keys and whitespace are not content; numbers keep their
  digits: 1.50 is not 1.5). Vectors are bytes (BLOB / bytea).
"""

from memvault.migrate.transfer.driver import transfer
from memvault.migrate.transfer.errors import DestinationNotEmpty, TransferError, VerificationFailed
from memvault.migrate.transfer.result import Progress, TableResult, TransferResult
from memvault.migrate.transfer.source import BATCH_ROWS, FORMAT
from memvault.migrate.transfer.tables import ColumnSpec, TableSpec, table_specs
from memvault.migrate.transfer.values import canonical_time
from memvault.migrate.transfer.verification import checksum_store

__all__ = [
    "BATCH_ROWS",
    "FORMAT",
    "ColumnSpec",
    "DestinationNotEmpty",
    "Progress",
    "TableResult",
    "TableSpec",
    "TransferError",
    "TransferResult",
    "VerificationFailed",
    "canonical_time",
    "checksum_store",
    "table_specs",
    "transfer",
]
