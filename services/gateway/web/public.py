"""Public pages: the home page, the catalogue, a product and a business's public profile."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("public")
