"""memvault as LangChain's vector store, retriever, embeddings and chat history
(`pip install 'memvault[langchain]'`).

    from memvault.langchain import (MemvaultChatMessageHistory, MemvaultEmbeddings,
                                    MemvaultRetriever, MemvaultVectorStore)

The memvault core never imports this package (nor LangChain): only code that imports
`memvault.langchain` loads it.
"""

from __future__ import annotations

from memvault.langchain.embeddings import MemvaultEmbeddings
from memvault.langchain.history import MemvaultChatMessageHistory
from memvault.langchain.retriever import MemvaultRetriever
from memvault.langchain.vectorstore import MemvaultVectorStore

__all__ = [
    "MemvaultChatMessageHistory",
    "MemvaultEmbeddings",
    "MemvaultRetriever",
    "MemvaultVectorStore",
]
