"""SQLAlchemy models, the engine factory, Alembic migrations and the audit chain."""
