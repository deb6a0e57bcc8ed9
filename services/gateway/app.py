"""The Flask gateway: the public HTTP API (``/api/v1``), its OpenAPI document, and the
operations routes. It holds no database: every request becomes RPC calls to the services."""
from flask import Flask
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from backbone import config
from services.gateway import (accounts, auth, businesses, catalogue_cache, docs, errors, expos,
                              notifications, observability, ops, orders, products,
                              security_headers)
from services.gateway import web
from services.gateway import whatsapp as whatsapp_webhook
from services.gateway.rpc import RpcPool
from services.gateway.schemas import ErrorResponse
from services.gateway.signing_key import checked_signing_key


class LarisApi(Api):
    ERROR_SCHEMA = ErrorResponse

    def handle_http_exception(self, error):
        return errors.from_http_exception(error)


def settings():
    """Raises ``WeakSigningKey`` in production when LARIS_SECRET_KEY is weak (signing_key.py)."""
    secret = checked_signing_key(config.env("LARIS_SECRET_KEY"), config.env("LARIS_ENV"))
    return {
        "API_TITLE": "Laris",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": docs.SWAGGER_UI_URL,
        # No third-party validator badge: the docs page loads nothing from another origin.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
        "SECRET_KEY": secret,
        "TOKEN_TTL_SECONDS": config.env_int("LARIS_TOKEN_TTL_SECONDS"),
        "TOKEN_LEEWAY_SECONDS": config.env_int("LARIS_TOKEN_LEEWAY_SECONDS"),
        "METRICS_ALLOW": ops.allowed_networks(config.env("LARIS_METRICS_ALLOW")),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "AMQP_URI": config.amqp_uri(),
    }


def create_app():
    # Its templates folder holds the Swagger UI page without inline script (see docs.py).
    app = Flask("laris_gateway", template_folder=docs.TEMPLATES)
    app.config.update(settings())
    app.json.sort_keys = False
    app.extensions["rpc"] = RpcPool(
        app.config["AMQP_URI"], size=config.env_int("LARIS_RPC_POOL_SIZE"),
        timeout=config.env_float("LARIS_RPC_TIMEOUT"))
    app.extensions["health_rpc"] = RpcPool(app.config["AMQP_URI"], size=2, timeout=3.0)
    # Public catalogue answers; its listener starts with the first catalogue request.
    app.extensions["catalogue_cache"] = catalogue_cache.from_config(app)

    api = LarisApi(app, spec_kwargs={"info": {"description": (
        "Ngalam Laris: Malang's cooperatives and UMKM, the Malang City Expo and the "
        "marketplace. Errors always have the shape {\"error\": {code, message, fields}}.")}})
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.register_blueprint(accounts.blp)
    api.register_blueprint(businesses.blp)
    api.register_blueprint(expos.blp)
    api.register_blueprint(notifications.blp)
    api.register_blueprint(orders.blp)
    api.register_blueprint(products.blp)
    app.register_blueprint(ops.blp)
    app.register_blueprint(docs.blp)
    # Outside the token authentication: its X-Hub-Signature-256 is its authentication.
    app.register_blueprint(whatsapp_webhook.blp)
    # The pages for people, outside /api/v1 (services/gateway/web).
    web.register(app)

    # Behind N reverse proxies, the client's address (used to throttle log-ins) is the one
    # they report in X-Forwarded-For; trusting it without a proxy would let clients forge it.
    trusted_proxies = config.env_int("LARIS_TRUSTED_PROXIES")
    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies)

    observability.register(app)
    security_headers.register(app)
    app.before_request(auth.load_caller)
    errors.register(app)
    return app
