"""The web pages: Ngalam Laris for people, not programs.

Served by the gateway outside ``/api/v1``, rendered on the server (Jinja2, one small
stylesheet, no JavaScript), Indonesian first with an English switch. A page is a thin view:
it calls the same service RPCs as the API, with the caller taken from the session cookie
instead of a bearer token, so the services make the same role and ownership checks.

Each area of the site is one module with its own blueprint made by ``pages.web_blueprint``
(sessions, CSRF and friendly error pages come with it) and its templates under
``templates/<area>/``. See docs/web.md.
"""
import datetime as dt

from backbone import config
from services.gateway.web import (account, buyer, expo, i18n, inbox, organizer, pages, photos,
                                  public, vendor)

# The areas of the site, in the order their blueprints register.
AREAS = (account, public, expo, buyer, vendor, photos, organizer, inbox)


def register(app):
    app.config.update(
        SESSION_COOKIE_NAME="laris_sesi",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.env("LARIS_ENV") == "production",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=config.env_float("LARIS_WEB_SESSION_HOURS")),
        # The JSON API takes bearer tokens, not cookies, so it needs no CSRF token; every web
        # blueprint checks it before its views (pages.web_blueprint).
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the session it belongs to.
        WTF_CSRF_TIME_LIMIT=None,
    )
    i18n.register(app)
    pages.register(app)
    for area in AREAS:
        app.register_blueprint(area.blp)
