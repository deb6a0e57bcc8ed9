"""Security headers on every response the app makes (API, errors, operations routes, docs).

The API answers JSON only, so its policy allows nothing at all. The Swagger UI page is the one
HTML page: it may load scripts, styles and the spec from this origin and nothing else. The web
pages (services/gateway/web) run no script at all: styles from this origin, images from any
https origin (a product's photos are URLs), forms posted only back to this origin.
"""
from flask import g, request

JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI sets style attributes as it renders, so inline styles must be allowed; styles
# cannot run script. Its icons are data: images in its stylesheet.
DOCS_PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                    "base-uri 'none'; form-action 'none'")
DOCS_PAGE_ENDPOINT = "api-docs.openapi_swagger_ui"
WEB_PAGE_POLICY = ("default-src 'none'; script-src 'none'; style-src 'self'; "
                   "img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; "
                   "base-uri 'none'")
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _add_headers(response):
    response.headers.update(ALWAYS)
    response.headers["Content-Security-Policy"] = _policy(response)
    if _depends_on_the_caller(response):
        response.headers["Cache-Control"] = "no-store"
    return response


def _policy(response):
    if request.endpoint == DOCS_PAGE_ENDPOINT:
        return DOCS_PAGE_POLICY
    if response.mimetype == "text/html" or (request.blueprint or "").startswith("web_"):
        return WEB_PAGE_POLICY
    return JSON_POLICY


def _depends_on_the_caller(response):
    """An answer to a token or a logged-in page, to a write (a log-in's answer is a token)
    or an error (which may name the caller's own data) is never kept by a browser or proxy
    cache."""
    return ("Authorization" in request.headers or g.get("caller") is not None
            or request.method not in ("GET", "HEAD") or response.status_code >= 400)


def register(app):
    app.after_request(_add_headers)
