"""The Alembic revisions: a package so that the import-linter contracts see them (Alembic skips
this file)."""
