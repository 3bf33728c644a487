"""A writer process for the crash tests: commits transactions and acknowledges each one.

    python -m tests.reliability._writer URL SESSION_ID

Each transaction appends a message and adds a memory (with its history row) atomically;
after the commit returns, it prints `ACK <message id> <memory id>` and flushes, so every
line on stdout is a transaction the caller was told is durable.
"""

from __future__ import annotations

import sys

import memvault


def main() -> None:
    url, session_id = sys.argv[1], sys.argv[2]
    # No embedding: loading the model takes longer than most kill delays, and the crash test
    # is about commits, not vectors (tests/test_vector_invariant.py covers those).
    with memvault.open(url, embed_memories=False) as vault:
        user_id = vault.sessions.get(session_id).user_id
        print("READY", flush=True)
        i = 0
        while True:
            i += 1
            with vault.transaction():
                message = vault.messages.append(session_id, "user", f"crash test {i} " + "x" * 300)
                memory = vault.memories.add(user_id, "note", f"{message.id} remembered")
            sys.stdout.write(f"ACK {message.id} {memory.id}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
