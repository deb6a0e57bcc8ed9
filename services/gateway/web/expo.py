"""The expo's public page with its floor plan."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("expo")
