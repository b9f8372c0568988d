"""Storage: SQLAlchemy models, the engine and the unit of work."""
