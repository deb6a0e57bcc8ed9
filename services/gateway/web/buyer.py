"""The buyer's pages: the cart, checkout, my orders and paying a part by QRIS."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("buyer")
