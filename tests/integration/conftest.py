import pathlib

import pytest

from backbone.db import Postgres

pytestmark = pytest.mark.integration
BACKBONE_MIGRATIONS = [pathlib.Path(__file__).resolve().parents[2] / "backbone" / "migrations"]


@pytest.fixture(scope="session")
def backbone_db_url(infra):
    """A database with only the backbone's tables (outbox, inbox, aggregate versions)."""
    return infra.migrate("backbone", dirs=BACKBONE_MIGRATIONS)


@pytest.fixture
def postgres(backbone_db_url):
    db = Postgres(backbone_db_url, source="itest", pool_size=8)
    with db.transaction() as tx:
        tx.execute("TRUNCATE outbox, inbox, aggregate_versions")
    yield db
    db.close()
