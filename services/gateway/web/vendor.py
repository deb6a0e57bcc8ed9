"""The vendor's desk (/toko): my business, products, QRIS, incoming orders and the expo."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("vendor")
