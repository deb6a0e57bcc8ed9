"""Security headers on every response the app makes (API, errors, operations routes, docs).

The API answers JSON only, so its policy allows nothing at all. The Swagger UI page is the one
HTML page: it may load scripts, styles and the spec from this origin and nothing else.
"""
from flask import request

JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI sets style attributes as it renders, so inline styles must be allowed; styles
# cannot run script. Its icons are data: images in its stylesheet.
DOCS_PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                    "base-uri 'none'; form-action 'none'")
DOCS_PAGE_ENDPOINT = "api-docs.openapi_swagger_ui"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _add_headers(response):
    response.headers.update(ALWAYS)
    response.headers["Content-Security-Policy"] = (
        DOCS_PAGE_POLICY if request.endpoint == DOCS_PAGE_ENDPOINT else JSON_POLICY)
    if _depends_on_the_caller(response):
        response.headers["Cache-Control"] = "no-store"
    return response


def _depends_on_the_caller(response):
    """An answer to a token, to a write (a log-in's answer is a token) or an error (which may
    name the caller's own data) is never kept by a browser or proxy cache."""
    return ("Authorization" in request.headers or request.method not in ("GET", "HEAD")
            or response.status_code >= 400)


def register(app):
    app.after_request(_add_headers)
