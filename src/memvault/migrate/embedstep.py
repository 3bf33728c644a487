"""After an import: embed the memories it wrote, in batches, with progress.

Memories get their vector when they are written, whatever the entry point (see
`Vault(embed_memories=...)`); an import writes thousands of rows per transaction, so its
memories are embedded after loading instead, `BATCH` texts per engine call and per
transaction (resumable like `memvault embed`: what a crash leaves is still missing and the
next run or `memvault embed` finishes it). Messages are left to `memvault embed`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from memvault.errors import MemvaultError

if TYPE_CHECKING:
    from memvault.migrate.pipeline import Progress
    from memvault.vault import Vault

BATCH = 64
PHASE = "embed"


def embed_memories(vault: Vault, progress: Progress | None = None) -> int:
    """Embed every memory that has no vector for the vault's embedder; returns how many.

    Nothing happens when the vault does not embed memories (`embed_memories=False`) or has
    no embedder. A failing embedder raises `MemvaultError` naming the way out."""
    if not vault.embed_memories:
        return 0
    with vault.store.read() as tx:  # no memory at all: skip loading the search (numpy)
        if tx.one("SELECT 1 AS one FROM memories LIMIT 1") is None:
            return 0
    if vault.search.embedder is None:
        return 0
    from memvault.migrate.pipeline import ProgressEvent

    model = vault.search.embed_model()
    total = vault.search.missing("memory", model)
    if total == 0:
        return 0
    started = time.monotonic()
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(
                ProgressEvent(
                    stream="embedding memories",
                    records=done,
                    rows=done,
                    fraction=min(1.0, done / total),
                    elapsed=time.monotonic() - started,
                    phase=PHASE,
                )
            )

    try:
        return vault.search.embed_missing("memory", batch=BATCH, progress=advance)
    except MemvaultError:
        raise
    except Exception as exc:
        raise MemvaultError(
            f"the import is loaded, but embedding its memories failed after {done:,} of "
            f"{total:,} ({exc}); `memvault embed` resumes it"
        ) from exc
