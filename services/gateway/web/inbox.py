"""Everyone's inbox and notification channels."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("inbox")
