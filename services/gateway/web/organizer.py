"""The organizers' desk (/admin): verification, expos, allocation, the waitlist."""
from services.gateway.web.pages import web_blueprint

blp = web_blueprint("organizer")
