"""Ngalam Laris orders: a buyer's order across vendors, each vendor's part of it, payments,
and the vendors' QRIS. Private: never cached, always the marketplace's current answer."""
import base64

from flask_smorest import Blueprint

from services.gateway.routes import route
from services.marketplace import contract

blp = Blueprint("orders", __name__, url_prefix="/api/v1",
                description="Orders, their parts per vendor, payments and QRIS.")

route(blp, "POST", "/orders", "marketplace.place_order", roles=("buyer",),
      body=contract.OrderCreate, response=contract.Order, status=201, idempotent=True,
      description="Takes every item's stock at once or none of it: 409 naming the products "
                  "short or not on sale, nothing reserved. Prices are fixed now. One part per "
                  "vendor.")
route(blp, "GET", "/orders", "marketplace.list_orders", roles=("buyer", "vendor"),
      query=contract.OrderListQuery, response=contract.OrderPage,
      description="The caller's orders, newest first; a vendor sees only their own parts.")
route(blp, "GET", "/orders/<order_id>", "marketplace.get_order", roles=("buyer", "vendor"),
      response=contract.Order,
      description="With its history. The buyer sees every part; a vendor only theirs; anyone "
                  "else a 404.")
route(blp, "POST", "/orders/<order_id>/status", "marketplace.change_order_status",
      roles=("buyer", "vendor"), body=contract.StatusChange, response=contract.Order,
      description="Moves every part of the caller's not cancelled (the buyer's: all), or none: "
                  "403 for a status the caller never sets, 409 for one not allowed now.")
route(blp, "POST", "/orders/<order_id>/parts/<part_id>/status",
      "marketplace.change_part_status", roles=("buyer", "vendor"), body=contract.StatusChange,
      response=contract.Order, description="Moves one part; the order's status follows.")
route(blp, "POST", "/orders/<order_id>/parts/<part_id>/payment", "marketplace.record_payment",
      roles=("vendor",), body=contract.PaymentRecord, response=contract.Order,
      description="The part's vendor records its payment: a qris or transfer part while "
                  "placed (before confirming it), cash on delivery once shipped; 409 "
                  "otherwise or when already paid.")
route(blp, "GET", "/orders/<order_id>/parts/<part_id>/qris", "marketplace.part_qris",
      roles=("buyer", "vendor"), response=contract.PartQris,
      description="The dynamic QRIS for exactly the part's amount; 409 for a part not paid "
                  "by QRIS or nothing left to pay, 404 when the vendor has no QRIS yet.")
route(blp, "GET", "/orders/<order_id>/parts/<part_id>/qris.svg", "marketplace.part_qris_svg",
      roles=("buyer", "vendor"), mimetype="image/svg+xml",
      description="The same dynamic QRIS as a QR code.")
route(blp, "GET", "/orders/<order_id>/parts/<part_id>/qris.png", "marketplace.part_qris_png",
      roles=("buyer", "vendor"), mimetype="image/png", shape=base64.b64decode,
      description="The same dynamic QRIS as a PNG QR code.")
route(blp, "PUT", "/vendors/<business_id>/qris", "marketplace.put_vendor_qris",
      roles=("vendor",), body=contract.VendorQrisPut, response=contract.VendorQris,
      description="The owner records the business's static merchant QRIS; 422 naming what is "
                  "wrong with it (structure, checksum, merchant name or city...).")
route(blp, "GET", "/vendors/<business_id>/qris", "marketplace.get_vendor_qris",
      roles=("vendor",), response=contract.VendorQris,
      description="The business's static QRIS, for its owner.")
