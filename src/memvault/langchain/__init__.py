"""memvault as LangChain's vector store, retriever, embeddings and chat history
(`pip install 'memvault[langchain]'`).

The memvault core never imports this package (nor LangChain): only code that imports
`memvault.langchain` loads it.
"""

from __future__ import annotations

from memvault.langchain.embeddings import MemvaultEmbeddings

__all__ = ["MemvaultEmbeddings"]
