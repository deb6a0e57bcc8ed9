"""The marketplace's nameko entrypoints: parse, call the domain, persist, return."""
import logging
import uuid

from nameko.rpc import rpc

from backbone import clock, idempotency, pagination
# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.caller import checked_caller
from backbone.contracts import business_snapshot
from backbone.errors import NotFound, load_valid
from backbone.fields import parse_id
from backbone.inbox import consumes
from services.marketplace import contract, domain, events, store

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

    # --- catalogue: products ---

    @rpc
    def list_product(self, caller, body, idempotency_key=None):
        """POST /products: a vendor lists a product of their verified business."""
        caller = checked_caller(caller)
        data = load_valid(contract.ProductCreate(), body)
        scope = ("list_product", caller["account_id"])
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            business = store.business_by_id(tx, parse_id(data["business_id"]))
            domain.check_may_list(caller, business)
            product = store.insert_product(tx, data | {
                "id": uuid.uuid4(), "business_id": business["id"], "now": clock.now()})
            tx.emit(events.PRODUCT_LISTED, events.product_snapshot(product, business),
                    aggregate=events.product_aggregate(product))
            view = contract.Product().dump(domain.product_view(product))
            idempotency.remember(tx, scope, idempotency_key, view)
        return view

    @rpc
    def change_product(self, caller, product_id, body):
        """PATCH /products/{id}: the owner changes any of its fields; a PATCH that changes
        nothing keeps the version and tells no one."""
        caller = checked_caller(caller)
        requested = load_valid(contract.ProductChange(), body)
        with self.db.transaction() as tx:
            product = self._product(tx, product_id, for_update=True)
            business = store.business_by_id(tx, product["business_id"])
            domain.check_owner(caller, business)
            changed = domain.changes(product, requested)
            if changed:
                product = store.update_product(tx, product["id"], changed, clock.now())
                self._changed(tx, product, business)
            return contract.Product().dump(domain.product_view(product))

    @rpc
    def get_product(self, caller, product_id):
        caller = checked_caller(caller, required=False)
        with self.db.transaction() as tx:
            product = self._product(tx, product_id)
            business = store.business_by_id(tx, product["business_id"])
            domain.check_may_see(caller, product, business)
            return contract.Product().dump(domain.product_view(product))

    @rpc
    def list_products(self, query):
        """GET /products: search, filters, an order, a page, and facets beside it."""
        query = load_valid(contract.ProductListQuery(), query)
        query["q"] = domain.normalise_query(query["q"])
        sort = domain.sort_of(query["sort"], query["q"])
        after = (domain.parse_cursor(sort, query["cursor"])
                 if query["cursor"] is not None else None)
        with self.db.transaction() as tx:
            rows = store.list_products(tx, query, sort, query["limit"], after)
            counts = store.facets(tx, query)
        listing = pagination.page(rows, query["limit"],
                                  lambda row: domain.cursor_values(sort, row))
        listing["items"] = [domain.product_view(row) for row in listing["items"]]
        listing["facets"] = {
            "category": domain.facet_counts(counts["category"], contract.CATEGORIES),
            "kecamatan": domain.facet_counts(counts["kecamatan"])}
        return contract.ProductPage().dump(listing)

    # --- catalogue: curation by organizers ---

    @rpc
    def hide_product(self, caller, product_id, body):
        """An organizer hides a product that breaks the rules; product.hidden tells the vendor
        why. Hiding it again with another reason records the new reason."""
        caller = checked_caller(caller)
        domain.check_curator(caller)
        reason = load_valid(contract.ProductHide(), body)["reason"]
        with self.db.transaction() as tx:
            product = self._product(tx, product_id, for_update=True)
            business = store.business_by_id(tx, product["business_id"])
            product = store.update_product(tx, product["id"], {
                "hidden": True, "hidden_reason": reason,
                "hidden_by": caller["account_id"]}, clock.now())
            tx.emit(events.PRODUCT_HIDDEN,
                    events.product_hidden(product, business, reason, caller["account_id"]),
                    aggregate=events.product_aggregate(product))
            log.info("product hidden", extra={"product_id": str(product["id"])})
            return contract.Product().dump(domain.product_view(product))

    @rpc
    def unhide_product(self, caller, product_id):
        caller = checked_caller(caller)
        domain.check_curator(caller)
        return self._curate(product_id, {"hidden": False, "hidden_reason": None,
                                         "hidden_by": None})

    @rpc
    def feature_product(self, caller, product_id, body):
        """On (or off) the home page: GET /products?featured=true."""
        caller = checked_caller(caller)
        domain.check_curator(caller)
        featured = load_valid(contract.ProductFeature(), body)["featured"]
        return self._curate(product_id, {"featured": featured})

    # --- catalogue: facts from the registry ---

    @consumes("registry", "business.*")
    def on_business_fact(self, event):
        self.db.apply_if_newer(event, remember_business)

    # --- catalogue: helpers ---

    def _product(self, tx, product_id, for_update=False):
        product_id = parse_id(product_id)
        product = (store.product_by_id(tx, product_id, for_update=for_update)
                   if product_id is not None else None)
        if product is None:
            raise NotFound("No such product.")
        return product

    def _curate(self, product_id, values):
        """Sets curation fields; a repeat that changes nothing keeps the version."""
        with self.db.transaction() as tx:
            product = self._product(tx, product_id, for_update=True)
            if any(product[field] != value for field, value in values.items()):
                business = store.business_by_id(tx, product["business_id"])
                product = store.update_product(tx, product["id"], values, clock.now())
                self._changed(tx, product, business)
            return contract.Product().dump(domain.product_view(product))

    @staticmethod
    def _changed(tx, product, business):
        tx.emit(events.PRODUCT_CHANGED, events.product_snapshot(product, business),
                aggregate=events.product_aggregate(product))

    # --- orders ---
