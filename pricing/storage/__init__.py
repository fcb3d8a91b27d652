"""The database: engine, tables, migrations and the audit chain (the only place with SQL on app tables)."""
