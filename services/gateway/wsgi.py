"""gunicorn's entry: ``gunicorn -c services/gateway/gunicorn.conf.py services.gateway.wsgi:app``."""
from backbone.logs import configure_logging
from services.gateway.app import create_app

configure_logging("gateway")
app = create_app()
