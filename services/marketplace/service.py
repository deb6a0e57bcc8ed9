"""The marketplace's nameko entrypoints: parse, call the domain, persist, return."""
import logging

# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.contracts import business_snapshot
from backbone.inbox import consumes
from services.marketplace import store

log = logging.getLogger(__name__)

# --- catalogue ---

# The read model's handler: its versions in aggregate_versions carry this name.
READ_MODEL_HANDLER = "marketplace.on_business_fact"


def remember_business(tx, event):
    """Applies a business.* fact (or a replayed snapshot): the whole snapshot replaces what the
    read model held. A business no longer verified keeps its products, which stop showing
    (the listing joins on the business's status) until it is verified again."""
    store.save_business(tx, business_snapshot(event), event.aggregate_version)


class MarketplaceService(laris.LarisService):
    name = "marketplace"

    # --- catalogue: facts from the registry ---

    @consumes("registry", "business.*")
    def on_business_fact(self, event):
        self.db.apply_if_newer(event, remember_business)

    # --- orders ---
