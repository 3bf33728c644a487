"""memvault as the persistence layer of LangGraph (`pip install 'memvault[langgraph]'`).

`MemvaultSaver` is a LangGraph checkpointer over a memvault store. The memvault core never
imports this package (nor LangGraph): only code that imports `memvault.langgraph` loads it.
"""

from __future__ import annotations

from memvault.langgraph.checkpoint import MemvaultSaver

__all__ = ["MemvaultSaver"]
