"""The store: SQLAlchemy 2 models on SQLite (embedded) or PostgreSQL, with Alembic migrations.

The task row is the truth (DESIGN §5); queues carry only ids.
"""
