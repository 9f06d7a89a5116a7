"""The embedded default storage backend: one SQLite file plus an in-memory vector index.

Modules: `schema` (tables, connection settings), `connections` (pool, transactions),
`rows` (row <-> dataclass), `vectors` (numpy vector index),
`index_cache` (keeps each collection's index in step with the database), `store` (the
`FaceStore` implementation).
"""

from .store import SqliteFaceStore

__all__ = ["SqliteFaceStore"]
