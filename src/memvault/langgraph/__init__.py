"""memvault as the persistence layer of LangGraph (`pip install 'memvault[langgraph]'`).

`MemvaultSaver` is a LangGraph checkpointer and `MemvaultStore` a LangGraph long-term memory
store (`BaseStore`) over a memvault vault. The memvault core never imports this package (nor
LangGraph): only code that imports `memvault.langgraph` loads it.
"""

from __future__ import annotations

from memvault.langgraph.checkpoint import MemvaultSaver
from memvault.langgraph.store import MemvaultStore

__all__ = ["MemvaultSaver", "MemvaultStore"]
