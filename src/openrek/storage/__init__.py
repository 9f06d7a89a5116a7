"""Storage for collections, faces and users: SQLite (embedded default) or PostgreSQL."""
