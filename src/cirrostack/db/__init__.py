"""The database: SQLAlchemy models with CloudStack's table names, engines, sessions, migrations."""
