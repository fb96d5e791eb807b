"""Write a new Alembic migration from the difference between the models and the migrations.

Developers run it after changing models:  .venv/bin/python tools/new_migration.py "add foo"
It migrates a scratch SQLite database to head, autogenerates the difference, and leaves the new
file in src/cirrostack/db/migrations/versions/ to be read, edited where needed, and committed.

Read the downgrade in particular: Alembic drops a table's indexes before the table, which
MariaDB refuses when a foreign key needs the index; drop the table alone (its indexes go too).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from cirrostack.db import engine as db_engine
from cirrostack.db import migrate


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    with tempfile.TemporaryDirectory() as directory:
        engine = db_engine.make_engine(f"sqlite:///{Path(directory) / 'scratch.db'}")
        migrate.upgrade(engine)
        config = migrate.alembic_config(engine)
        config.set_main_option("version_locations", str(migrate.MIGRATIONS / "versions"))
        command.revision(config, message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    main()
