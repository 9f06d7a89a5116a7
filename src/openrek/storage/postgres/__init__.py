"""The PostgreSQL backend: many servers and workers on many hosts share one database.

Modules: `connections` (pool, transactions, errors), `migrations` (versioned schema),
`ann` (pgvector HNSW indexes per face model version, and the search queries), `store`
(the `FaceStore` implementation).
"""

from .store import PostgresFaceStore

__all__ = ["PostgresFaceStore"]
