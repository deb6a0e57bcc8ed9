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
import base64
from nameko.timer import timer
from backbone import config
from backbone.errors import Forbidden, ValidationFailed
from services.marketplace import payments, photos, qris
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
    def list_business_products(self, caller, business_id, query):
        """Every product of a business, hidden ones with the organizer's reason, newest first:
        what its owner (and organizers) see of it, where the catalogue shows only what is on
        show."""
        caller = checked_caller(caller)
        query = load_valid(contract.BusinessProductsQuery(), query)
        with self.db.transaction() as tx:
            business = self._business(tx, business_id)
            domain.check_may_list_all(caller, business)
            listing = store.products_of_business(tx, business["id"], query["hidden"],
                                                 query["limit"], query["cursor"])
        listing["items"] = [domain.product_view(row) for row in listing["items"]]
        return contract.BusinessProductPage().dump(listing)

    @rpc
    def product_pages_on_show(self, after=None, limit=domain.ON_SHOW_PAGE_LIMIT):
        """The page of every product on show, as get_product answers an anonymous reader, in
        id order after the id ``after``: the gateway preloads its catalogue cache with them.
        ``next_after`` is the id to ask after next, None at the end."""
        if after is not None and (after := parse_id(after)) is None:
            raise ValidationFailed("after is a product id.")
        limit = max(1, min(int(limit), domain.ON_SHOW_PAGE_LIMIT))
        with self.db.transaction() as tx:
            rows = store.products_on_show(tx, after, limit + 1)
        pages = contract.Product(many=True).dump(
            [domain.product_view(row) for row in rows[:limit]])
        return {"items": pages, "next_after": pages[-1]["id"] if len(rows) > limit else None}

    @rpc
    def list_products(self, query):
        """GET /products: search, filters, an order, a page, and facets beside it."""
        query = load_valid(contract.ProductListQuery(), query)
        query["q"] = contract.normalise_query(query["q"])
        sort = contract.sort_of(query["sort"], query["q"])
        after = (contract.parse_cursor(sort, query["cursor"])
                 if query["cursor"] is not None else None)
        with self.db.transaction() as tx:
            rows = store.list_products(tx, query, sort, query["limit"], after)
            counts = store.facets(tx, query)
        listing = pagination.page(rows, query["limit"],
                                  lambda row: contract.cursor_values(sort, row))
        listing["items"] = [domain.product_view(row) for row in listing["items"]]
        listing["facets"] = {
            "category": contract.facet_counts(counts["category"], contract.CATEGORIES),
            "kecamatan": contract.facet_counts(counts["kecamatan"])}
        return contract.ProductPage().dump(listing)

    @rpc
    def search_matches(self, words):
        """Every product on show that the search words match, with its relevance in
        millionths: the gateway's catalogue index holds them and answers every filter, order
        and page of these words itself. ``words`` as the shopper typed them; the answer names
        them normalised (None: nothing searchable, and no matches)."""
        words = contract.normalise_query(load_valid(contract.ProductListQuery(), {"q": words})["q"])
        if words is None:
            return {"words": None, "ids": [], "relevance": []}
        with self.db.transaction() as tx:
            ids, relevance = store.search_matches(tx, words)
        return {"words": words, "ids": ids, "relevance": relevance}

    @rpc
    def search_refresh(self, request):
        """After facts named products or businesses: the page of each of those products, and
        of every product of those businesses, that is on show (get_product's, to an anonymous
        reader), and its relevance in millionths to each of the index's words it matches. A
        product not on show is absent from ``pages``."""
        request = load_valid(contract.SearchRefresh(), request)
        with self.db.transaction() as tx:
            rows = store.products_on_show_by_ids(
                tx, [str(i) for i in request["product_ids"]],
                [str(i) for i in request["business_ids"]])
            ids = [str(row["id"]) for row in rows]
            relevance = (store.relevance_to(tx, ids, request["words"])
                         if request["words"] and ids else {})
        return {"pages": contract.Product(many=True).dump(
                    [domain.product_view(row) for row in rows]),
                "relevance": relevance}

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

    # --- catalogue: photos uploaded by the vendor ---

    @rpc
    def add_photo(self, caller, product_id, photo, idempotency_key=None):
        """The owner uploads a photo (base64 of a JPEG, PNG or WebP): kept as a clean JPEG
        (photos.py), its path appended to the product's images, product.changed told."""
        caller = checked_caller(caller)
        upload = photos.decoded_upload(photo)
        with self.db.transaction() as tx:
            product = self._product(tx, product_id)
            business = store.business_by_id(tx, product["business_id"])
            domain.check_owner(caller, business)
        # Decoding and re-encoding take a while: outside the transaction, no row locked.
        kept = photos.catalogue_photo(upload)
        scope = ("add_photo", caller["account_id"], str(product["id"]))
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key,
                                              {"photo": photo})) is not None:
                return earlier
            product = self._product(tx, product_id, for_update=True)
            domain.check_may_add_photo(product, len(store.photos_of(tx, product["id"])))
            added = store.insert_photo(tx, {
                "id": uuid.uuid4(), "product_id": product["id"], "jpeg": kept.jpeg,
                "width": kept.width, "height": kept.height, "now": clock.now()})
            view = domain.photo_view(added)
            product = store.update_product(tx, product["id"], {
                "images": product["images"] + [view["url"]]}, clock.now())
            self._changed(tx, product, business)
            view = contract.ProductPhoto().dump(view)
            idempotency.remember(tx, scope, idempotency_key, view)
        log.info("product photo added", extra={"product_id": view["product_id"],
                                               "photo_id": view["id"]})
        return view

    @rpc
    def list_photos(self, caller, product_id):
        """The photos uploaded to a product, to whoever may see the product."""
        caller = checked_caller(caller, required=False)
        with self.db.transaction() as tx:
            product = self._product(tx, product_id)
            domain.check_may_see(caller, product,
                                 store.business_by_id(tx, product["business_id"]))
            items = [domain.photo_view(row) for row in store.photos_of(tx, product["id"])]
        return contract.ProductPhotoList().dump({"items": items})

    @rpc
    def photo_jpeg(self, product_id, photo_id):
        """The photo's JPEG in base64, for the gateway to serve: to anyone who has its URL
        (an <img> sends no token), as long as the vendor keeps it."""
        product_id, photo_id = parse_id(product_id), parse_id(photo_id)
        with self.db.transaction() as tx:
            jpeg = product_id and photo_id and store.photo_jpeg(tx, product_id, photo_id)
        if not jpeg:
            raise NotFound("No such photo.")
        return base64.b64encode(jpeg).decode()

    @rpc
    def delete_photo(self, caller, product_id, photo_id):
        """The owner deletes a photo: its path leaves the product's images."""
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            product = self._product(tx, product_id, for_update=True)
            business = store.business_by_id(tx, product["business_id"])
            domain.check_owner(caller, business)
            photo_id = parse_id(photo_id)
            removed = photo_id and store.delete_photo(tx, product["id"], photo_id)
            if not removed:
                raise NotFound("No such photo.")
            view = domain.photo_view(removed)
            if view["url"] in product["images"]:
                product = store.update_product(tx, product["id"], {
                    "images": [url for url in product["images"] if url != view["url"]]},
                    clock.now())
                self._changed(tx, product, business)
        return contract.ProductPhoto().dump(view)

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
    # Who vouches for a payment: the vendor's word today; an acquirer's API one day
    # (payments.py is the seam).
    acquirer = payments.VendorWord()

    @rpc
    def place_order(self, caller, body, idempotency_key=None):
        """Takes the stock of every item in one transaction, or none of it: a short item
        refuses the whole order (409 naming it). The prices charged are those of the rows
        locked when the stock is taken."""
        caller = checked_caller(caller)
        domain.check_buyer(caller)
        data = load_valid(contract.OrderCreate(), body)
        domain.check_items_distinct(data["items"])
        scope = ("place_order", caller["account_id"])
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            view = self._place(tx, caller, data)
            idempotency.remember(tx, scope, idempotency_key, view)
        log.info("order placed", extra={"order_id": view["id"], "total_idr": view["total_idr"]})
        return view

    @rpc
    def get_order(self, caller, order_id):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            return self._order_view(tx, caller, self._order(tx, order_id))

    @rpc
    def list_orders(self, caller, query):
        caller = checked_caller(caller)
        query = load_valid(contract.OrderListQuery(), query)
        role = domain.list_role(caller, query["role"])
        with self.db.transaction() as tx:
            listing = store.list_order_ids(tx, caller["account_id"], role, query["limit"],
                                           query["cursor"])
            order_ids = [row["id"] for row in listing["items"]]
            orders = {order["id"]: order for order in store.orders_by_ids(tx, order_ids)}
            parts = store.parts_of_orders(tx, order_ids)
            lines = store.lines_of_parts(tx, [part["id"] for part in parts])
        listing["items"] = [
            self._shaped(caller, orders[order_id],
                         [part for part in parts if part["order_id"] == order_id], lines)
            for order_id in order_ids]
        return contract.OrderPage().dump(listing)

    @rpc
    def change_order_status(self, caller, order_id, body):
        """The contract's move of a whole order: every part of the caller's that is not
        cancelled moves (the buyer's: all of them), or none does (409 naming the part)."""
        caller = checked_caller(caller)
        data = load_valid(contract.StatusChange(), body)
        with self.db.transaction() as tx:
            order = self._order(tx, order_id, for_update=True)
            parts = store.parts_of_orders(tx, [order["id"]])
            mine = domain.visible_parts(caller, order, parts)
            moving = [part for part in mine if part["status"] != domain.CANCELLED] or mine
            for part in moving:
                domain.check_transition(part, data["status"],
                                        domain.actor_for_part(caller, order, part))
            for part in moving:
                self._move(tx, order, part, data["status"],
                           domain.actor_for_part(caller, order, part), caller["account_id"],
                           data["note"])
            return self._order_view(tx, caller, store.order_by_id(tx, order["id"]))

    @rpc
    def change_part_status(self, caller, order_id, part_id, body):
        caller = checked_caller(caller)
        data = load_valid(contract.StatusChange(), body)
        with self.db.transaction() as tx:
            order = self._order(tx, order_id, for_update=True)
            part, actor = self._part(tx, caller, order, part_id)
            domain.check_transition(part, data["status"], actor)
            self._move(tx, order, part, data["status"], actor, caller["account_id"],
                       data["note"])
            return self._order_view(tx, caller, store.order_by_id(tx, order["id"]))

    @rpc
    def record_payment(self, caller, order_id, part_id, body):
        """The vendor records that its part was paid: a prepaid part before confirming it, a
        cash-on-delivery part once shipped."""
        caller = checked_caller(caller)
        data = load_valid(contract.PaymentRecord(), body)
        with self.db.transaction() as tx:
            order = self._order(tx, order_id, for_update=True)
            part, actor = self._part(tx, caller, order, part_id)
            if actor != domain.VENDOR:
                raise Forbidden("Only the vendor of this part records its payment.")
            domain.check_may_record_payment(part)
            payment = self.acquirer.confirm(method=part["payment_method"],
                                            amount_idr=part["total_idr"],
                                            reference=data["reference"])
            paid_at = clock.now()
            store.record_payment(tx, part, payment, caller["account_id"], paid_at)
            store.add_history(tx, part["id"], "payment", part["status"], part["status"],
                              actor, caller["account_id"], payment.reference, at=paid_at)
            version = store.next_order_version(tx, order["id"])
            tx.emit(events.ORDER_PART_PAID, events.part_paid(order, part, payment, paid_at),
                    aggregate=events.order_aggregate(order["id"], version))
            return self._order_view(tx, caller, store.order_by_id(tx, order["id"]))

    @timer(interval=config.env_float("LARIS_PAYMENT_SWEEP_SECONDS"))
    def cancel_unpaid_parts(self):
        """Prepaid parts left unpaid past their deadline are cancelled and their stock put
        back. The deadlines are in the database, so a restart loses none: the next sweep
        finds them. Each part is re-checked under its order's lock, so a payment recorded
        meanwhile, or another copy of the service, never makes it cancelled twice."""
        with self.db.transaction() as tx:
            # A batch per sweep keeps one sweep short; the next one takes the rest.
            overdue = store.overdue_parts(tx, clock.now(), limit=50)
        for row in overdue:
            with self.db.transaction() as tx:
                order = store.order_by_id(tx, row["order_id"], for_update=True)
                [part] = [part for part in store.parts_of_orders(tx, [order["id"]])
                          if part["id"] == row["id"]]
                if not domain.is_overdue(part, clock.now()):
                    continue
                self._move(tx, order, part, domain.CANCELLED, domain.TIMER, None,
                           domain.UNPAID_NOTE)
            log.info("unpaid order part cancelled", extra={
                "order_id": str(row["order_id"]), "part_id": str(row["id"])})

    # --- orders: the vendors' QRIS ---

    @rpc
    def put_vendor_qris(self, caller, business_id, body):
        """The owner records the static merchant QRIS of its business, checked (422 naming
        what is wrong)."""
        caller = checked_caller(caller)
        data = load_valid(contract.VendorQrisPut(), body)
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            static = checked_static_qris(data["payload"])
            saved = store.save_vendor_qris(tx, business["id"], static, caller["account_id"])
        return contract.VendorQris().dump(saved)

    @rpc
    def get_vendor_qris(self, caller, business_id):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            saved = store.vendor_qris(tx, business["id"])
        if saved is None:
            raise NotFound("No QRIS recorded for this business yet.")
        return contract.VendorQris().dump(saved)

    @rpc
    def part_qris(self, caller, order_id, part_id):
        """The part's dynamic QRIS: the vendor's static payload for exactly the part's
        amount."""
        caller = checked_caller(caller)
        order, part, stored = self._payable_part(caller, order_id, part_id)
        return contract.PartQris().dump({
            "order_id": order["id"], "part_id": part["id"], "amount_idr": part["total_idr"],
            "merchant_name": stored["merchant_name"], "merchant_city": stored["merchant_city"],
            "payload": qris.dynamic_for(stored["payload"], part["total_idr"])})

    @rpc
    def part_qris_svg(self, caller, order_id, part_id):
        caller = checked_caller(caller)
        _, part, stored = self._payable_part(caller, order_id, part_id)
        return qris.qr_svg(qris.dynamic_for(stored["payload"], part["total_idr"]))

    @rpc
    def part_qris_png(self, caller, order_id, part_id):
        """Base64: RPC replies are JSON; the gateway sends the bytes."""
        caller = checked_caller(caller)
        _, part, stored = self._payable_part(caller, order_id, part_id)
        png = qris.qr_png(qris.dynamic_for(stored["payload"], part["total_idr"]))
        return base64.b64encode(png).decode("ascii")

    # --- orders: helpers ---

    def _place(self, tx, caller, data):
        """The order, its parts and lines, its history, and the stock taken last: the rows of
        its products are locked only for the end of the transaction, so orders sharing a
        product wait on each other as briefly as possible. Returns the order's view.

        The products are read twice: first without a lock, to price the order (and refuse a
        hopeless one before locking anything), then locked, to check and take the stock. A
        price changed between the two is a 409: the buyer is never charged a price other than
        the one in the answer, nor one older than the stock taken."""
        items = data["items"]
        product_ids = [item["product_id"] for item in items]
        products = store.products_for_order(tx, product_ids)
        domain.check_orderable(items, products)
        now, order_id, method = clock.now(), uuid.uuid4(), data["payment_method"]
        due_at = domain.payment_due_at(method, now,
                                       config.env_float("LARIS_PAYMENT_WINDOW_HOURS"))
        parts = [part | {"id": uuid.uuid4(), "order_id": order_id, "payment_method": method,
                         "payment_due_at": due_at, "created_at": now}
                 for part in domain.priced_parts(items, products)]
        order = {"id": order_id, "buyer_account_id": caller["account_id"],
                 "payment_method": method, "shipping": data["shipping"],
                 "total_idr": domain.order_total(parts), "created_at": now}
        store.insert_order(tx, order, parts)
        for part in parts:
            store.add_history(tx, part["id"], "status", None, "placed", domain.BUYER,
                              caller["account_id"], at=now)
        tx.emit(events.ORDER_PLACED, events.order_placed(order, parts),
                aggregate=events.order_aggregate(order_id, 1))
        view = self._order_view(tx, caller, store.order_by_id(tx, order_id))
        locked = store.products_for_order(tx, product_ids, lock=True)
        domain.check_orderable(items, locked)
        domain.check_prices_unchanged(products, locked)
        self._announce_stock(tx, store.take_stock(
            tx, {item["product_id"]: item["quantity"] for item in items}))
        return view

    def _move(self, tx, order, part, to_status, actor, account_id, note):
        """One part moves (already checked): its status, its history, its stock back on a
        cancel (once), the order's next version and order.status_changed."""
        store.set_part_status(tx, part["id"], to_status)
        store.add_history(tx, part["id"], "status", part["status"], to_status, actor,
                          account_id, note)
        if domain.takes_stock_back(to_status):
            self._announce_stock(tx, store.give_stock_back(tx, part["id"]))
        version = store.next_order_version(tx, order["id"])
        statuses = [row["status"] for row in store.parts_of_orders(tx, [order["id"]])]
        tx.emit(events.ORDER_STATUS_CHANGED, events.status_changed(
            order, part, store.lines_of_parts(tx, [part["id"]]), {
                "from_status": part["status"], "to_status": to_status,
                "order_status": domain.derived_status(statuses), "actor": actor}),
            aggregate=events.order_aggregate(order["id"], version))

    @staticmethod
    def _announce_stock(tx, products):
        """An order changed these products' stock: their new versions, for read models and
        the gateway's catalogue cache; stock.depleted for those now at zero."""
        for product in products:
            tx.emit(events.PRODUCT_CHANGED, events.product_snapshot(product, product),
                    aggregate=events.product_aggregate(product))
            if product["stock"] == 0:
                tx.emit(events.STOCK_DEPLETED, events.stock_depleted(product),
                        aggregate=events.product_aggregate(product))

    def _order(self, tx, order_id, for_update=False):
        parsed = parse_id(order_id)
        order = store.order_by_id(tx, parsed, for_update) if parsed is not None else None
        if order is None:
            raise NotFound("No such order.")
        return order

    def _part(self, tx, caller, order, part_id):
        """(part, what the caller is to it) for a part the caller may see, else a 404."""
        parts = domain.visible_parts(caller, order, store.parts_of_orders(tx, [order["id"]]))
        part = next((part for part in parts if str(part["id"]) == part_id), None)
        if part is None:
            raise NotFound("No such part in this order.")
        return part, domain.actor_for_part(caller, order, part)

    def _payable_part(self, caller, order_id, part_id):
        with self.db.transaction() as tx:
            order = self._order(tx, order_id)
            part, _ = self._part(tx, caller, order, part_id)
            stored = store.vendor_qris(tx, part["business_id"])
        domain.check_qris_payable(part, stored)
        return order, part, stored

    def _business(self, tx, business_id):
        parsed = parse_id(business_id)
        business = store.business_by_id(tx, parsed) if parsed is not None else None
        if business is None:
            raise NotFound("No such business.")
        return business

    def _owned_business(self, tx, caller, business_id):
        business = self._business(tx, business_id)
        domain.check_business_owner(caller, business)
        return business

    def _order_view(self, tx, caller, order):
        """The order as the caller may see it, with its history."""
        parts = domain.visible_parts(caller, order, store.parts_of_orders(tx, [order["id"]]))
        part_ids = [part["id"] for part in parts]
        view = self._shaped(caller, order, parts, store.lines_of_parts(tx, part_ids))
        view["history"] = store.history_of_parts(tx, part_ids)
        return contract.Order().dump(view)

    @staticmethod
    def _shaped(caller, order, parts, lines):
        """The order through the caller's eyes: a vendor's items, parts, total and status are
        those of their own parts."""
        parts = domain.visible_parts(caller, order, parts)
        lines_of = {part["id"]: [line for line in lines if line["part_id"] == part["id"]]
                    for part in parts}
        return order | {
            "status": domain.derived_status([part["status"] for part in parts]),
            "total_idr": domain.order_total(parts),
            "items": [line for part in parts for line in lines_of[part["id"]]],
            "parts": [part_view(caller, order, part, lines_of[part["id"]]) for part in parts]}


def part_view(caller, order, part, lines):
    """The part with its lines and what the caller may do with it now."""
    actor = domain.actor_for_part(caller, order, part)
    return part | {"items": lines, "moves": domain.moves_now(part, actor),
                   "payment_recordable": domain.payment_recordable(part, actor)}


def checked_static_qris(payload):
    """The static QRIS in ``payload``, or a 422 naming what is wrong with it."""
    try:
        return qris.parse_static(payload)
    except qris.QrisError as exc:
        raise ValidationFailed(exc.message, fields={"payload": [exc.message]},
                               details={"reason": exc.reason, "tag": exc.tag}) from None
