"""The Flask gateway: the public HTTP API (``/api/v1``), its OpenAPI document, and the
operations routes. It holds no database: every request becomes RPC calls to the services."""
import logging

from flask import Flask
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from backbone import config
from services.gateway import accounts, auth, businesses, errors, observability, ops
from services.gateway.rpc import RpcPool
from services.gateway.schemas import ErrorResponse

log = logging.getLogger(__name__)
DEV_SECRET_KEY = "laris-dev-secret-key-change-me-in-production"


class LarisApi(Api):
    ERROR_SCHEMA = ErrorResponse

    def handle_http_exception(self, error):
        return errors.from_http_exception(error)


def settings():
    secret = config.env("LARIS_SECRET_KEY", DEV_SECRET_KEY)
    if secret == DEV_SECRET_KEY:
        log.warning("LARIS_SECRET_KEY is the development default: set your own in production")
    return {
        "API_TITLE": "Laris",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        "SECRET_KEY": secret,
        "TOKEN_TTL_SECONDS": config.env_int("LARIS_TOKEN_TTL_SECONDS"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "AMQP_URI": config.amqp_uri(),
    }


def create_app():
    app = Flask("laris_gateway")
    app.config.update(settings())
    app.json.sort_keys = False
    app.extensions["rpc"] = RpcPool(
        app.config["AMQP_URI"], size=config.env_int("LARIS_RPC_POOL_SIZE"),
        timeout=config.env_float("LARIS_RPC_TIMEOUT"))
    app.extensions["health_rpc"] = RpcPool(app.config["AMQP_URI"], size=2, timeout=3.0)

    api = LarisApi(app, spec_kwargs={"info": {"description": (
        "Ngalam Laris: Malang's cooperatives and UMKM, the Malang City Expo and the "
        "marketplace. Errors always have the shape {\"error\": {code, message, fields}}.")}})
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.register_blueprint(accounts.blp)
    api.register_blueprint(businesses.blp)
    app.register_blueprint(ops.blp)

    # Behind N reverse proxies, the client's address (used to throttle log-ins) is the one
    # they report in X-Forwarded-For; trusting it without a proxy would let clients forge it.
    trusted_proxies = config.env_int("LARIS_TRUSTED_PROXIES")
    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies)

    observability.register(app)
    app.before_request(auth.load_caller)
    errors.register(app)
    return app
