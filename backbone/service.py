"""What every Laris service is built from, so a new service starts by subclassing, not copying.

    class ExpoService(LarisService):
        name = "expo"
        first_run = FirstRun(create_default_expo)   # optional

``LarisService`` gives the service its own database (with the outbox relay), the request
context on every worker, and the ``health`` RPC that /readyz asks. ``FirstRun`` runs a
service's one-time setup (the first admin, a default record) before the service answers its
first request, once even when several copies start together.
"""
import logging

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from backbone import config
from backbone.context import RequestContext
from backbone.db import Database, Postgres

log = logging.getLogger(__name__)


class LarisService:
    db = Database()
    request_id = RequestContext()

    @rpc
    def health(self):
        with self.db.transaction() as tx:
            tx.one("SELECT 1 AS ok")
        return {"service": self.name, "database": "ok"}


class FirstRun(DependencyProvider):
    """Runs ``setup_once(postgres)`` during the service's setup. nameko finishes every
    extension's setup before it starts any, so the work is done before the first request. A
    transaction-scoped advisory lock keyed by the service's name lets one copy do it while
    another copy starting at the same moment waits, then finds it done. An exception stops the
    service from starting, with its message."""

    def __init__(self, setup_once):
        self.setup_once = setup_once

    def setup(self):
        service = self.container.service_name
        postgres = Postgres(config.database_url(service), source=service, pool_size=1)
        try:
            with postgres.transaction() as tx:
                tx.one("SELECT pg_advisory_xact_lock(hashtext(%s)) AS locked",
                       (f"laris.first_run.{service}",))
                self.setup_once(tx)
        finally:
            postgres.close()
