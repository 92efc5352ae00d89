"""Connection settings of the database layer."""
from sqlalchemy import text

from tests.conftest import require_postgresql
from tests.migrations import database_at
from webapp.db import Database


def test_postgresql_connections_run_without_jit_and_keep_the_urls_options(tmp_path):
    """JIT compiling cost pages more than it saved; a search_path given in the URL still holds."""
    require_postgresql()
    with database_at("0001", "postgresql", tmp_path) as url:
        assert "options=" in url
        db = Database(url)
        try:
            with db.session() as s:
                assert s.execute(text("SHOW jit")).scalar() == "off"
                assert s.execute(text("SELECT current_schema()")).scalar().startswith("migration_0001")
        finally:
            db.dispose()
