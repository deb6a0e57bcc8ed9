"""A product's photos: the vendor uploads them from a phone; the catalogue shows them."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("photos")
