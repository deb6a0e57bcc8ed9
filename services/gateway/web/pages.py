"""What every page shares: the blueprint factory (session caller, CSRF, error pages), the
render helper, the login guard, and forms whose errors come from the services.

A page view is thin: it reads the form, calls a service with ``call(...)`` (the caller is the
session's), and either redirects (Post/Redirect/Get, with a flash message) or renders the
form again with the service's field errors next to the fields.
"""
import functools
import logging
import urllib.parse

from flask import (Blueprint, flash, g, redirect, render_template, request, session, url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, NotFound

from backbone.errors import BackendUnavailable, DomainError
from services.gateway import auth, errors, rpc
from services.gateway.rpc import ServiceUnavailable
from services.gateway.web import i18n

log = logging.getLogger(__name__)
csrf = CSRFProtect()
STATUS_BY_CODE = errors.STATUS_BY_CODE
HERE = __name__.rsplit(".", 1)[0]
# Form errors the visitor can mend on the same page; any other error gets its error page.
FORM_ERROR_CODES = {"validation_error", "conflict", "rate_limited", "unauthorized"}


# --- the session's caller ------------------------------------------------------------------

# What a visitor had before logging in and keeps after (the cart): nothing of an account.
KEPT_ACROSS_LOG_IN = set()


def log_in(account):
    """Start a new session for ``account`` (as the registry's authenticate answers it)."""
    kept = {name: session[name] for name in KEPT_ACROSS_LOG_IN if name in session}
    session.clear()
    session.permanent = True
    session.update(account_id=account["id"], role=account["role"],
                   token_version=account["token_version"], email=account.get("email"), **kept)


def log_out():
    session.clear()


def session_caller():
    """The caller of the session, None if anonymous. A session of an account whose role or
    password changed since it logged in ends, as its bearer tokens do."""
    account_id = session.get("account_id")
    if account_id is None:
        return None
    if not auth.is_current(account_id, session.get("token_version")):
        session.clear()
        return None
    return {"account_id": account_id, "role": session["role"]}


def call(service, method, *args, **kwargs):
    """An RPC as the session's caller: ``call("marketplace", "get_order", order_id)``."""
    return rpc.call(service, method, g.caller, *args, **kwargs)


def call_anonymous(service, method, *args, **kwargs):
    return rpc.call(service, method, *args, **kwargs)


# --- guards --------------------------------------------------------------------------------

def requires_login(*roles):
    """Anonymous visitors go to the log-in page and come back; a wrong role is a 403 page.
    With ``roles``, one of them (an admin passes as an organizer, as in the API)."""
    allowed = set(roles) | ({"admin"} if "organizer" in roles else set())

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if g.caller is None:
                return redirect(url_for("web_account.log_in_page", next=_here()))
            if roles and g.caller["role"] not in allowed:
                return error_page(403)
            return view(*args, **kwargs)
        return guarded
    return decorate


def _here():
    return request.full_path.rstrip("?") if request.query_string else request.path


def safe_next(target, default="/"):
    """Only a path on this site: never ``//evil.example`` or ``https://...``."""
    if not target:
        return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


# --- rendering and forms -------------------------------------------------------------------

def render(template, status=200, **context):
    return render_template(template, **context), status


class FormError:
    """A service's refusal, for the form that caused it: a message on top and, per field,
    the messages to show beside it (in the page's language where they are catalogued)."""

    def __init__(self, error):
        self.code = error.code
        self.status = STATUS_BY_CODE.get(error.code, 400)
        self.message = i18n.service_message(error.message)
        self.fields = {name: [i18n.service_message(text) for text in _as_list(messages)]
                       for name, messages in (error.fields or {}).items()}

    def __bool__(self):
        return True


def _as_list(messages):
    if isinstance(messages, dict):
        return [f"{key}: {', '.join(_as_list(value))}" for key, value in messages.items()]
    if isinstance(messages, (list, tuple)):
        return [text for message in messages for text in _as_list(message)]
    return [str(messages)]


def form_status(error):
    """The status of a form shown again: 200 as asked, else its refusal's (422 to mend, 409
    refused by the state, 429 throttled...)."""
    return 200 if error is None else error.status


def attempt(action):
    """``(result, None)`` if ``action()`` succeeded, ``(None, FormError)`` if a service refused
    it for a reason the visitor can mend on the form; anything else propagates."""
    try:
        return action(), None
    except DomainError as error:
        if error.code not in FORM_ERROR_CODES:
            raise
        return None, FormError(error)


def done(message, endpoint, **values):
    """After a successful form: say so once, and go to the page showing the result."""
    flash(message, "ok")
    return redirect(url_for(endpoint, **values))


def form_body(*fields, integers=(), optional=()):
    """The named fields of the posted form as a service's JSON body: trimmed, empty optional
    fields left out (so the service's defaults apply), integers converted where they are
    integers (a field that is not stays text, for the service to name it)."""
    body = {}
    for name in fields:
        value = request.form.get(name, "").strip()
        if value == "" and name in optional:
            continue
        if name in integers:
            value = _integer_or_text(value)
        body[name] = value
    return body


def _integer_or_text(value):
    try:
        return int(value.replace(".", "").replace(",", ""))
    except ValueError:
        return value


# --- error pages ---------------------------------------------------------------------------


def error_page(status, message=None):
    return render("galat.html", status=status, status_code=status, message=message)


def _from_domain_error(error):
    if error.code == "unauthorized":
        log_out()
        return redirect(url_for("web_account.log_in_page", next=_here()))
    return error_page(STATUS_BY_CODE.get(error.code, 400), i18n.service_message(error.message))


def _from_http_exception(error):
    if isinstance(error, CSRFError):
        return error_page(400, i18n.gettext(
            "Formulir ini sudah kedaluwarsa atau tidak berasal dari halaman kami. "
            "Muat ulang halamannya, lalu kirim lagi."))
    return error_page(error.code or 500)


def _unavailable(_error):
    return error_page(503)


def _unexpected(error):
    log.exception("unhandled error on a page", exc_info=error)
    return error_page(500)


def _html_not_found(error):
    """A path nobody serves: the API's JSON error under /api/, a page elsewhere."""
    if request.path.startswith("/api/") or request.blueprint:
        return errors.from_http_exception(error)
    g.web_page = True
    try:
        g.caller = session_caller()
    except Exception:
        # The page says "not found" even when the registry cannot say who is asking.
        g.caller = None
    return error_page(404)


# --- the menu --------------------------------------------------------------------------------

def N_(message):
    """Marks a message for translation where it is only named, translated when shown."""
    return message


NAVIGATION = []


def nav_item(endpoint, label, roles=None, order=50, badge=None):
    """A link in the site's menu: for everyone (``roles=None``), anyone logged in (``()``), or
    the roles named. ``badge(caller)`` may give a count shown beside it (e.g. unread)."""
    NAVIGATION.append({"endpoint": endpoint, "label": label, "roles": roles, "order": order,
                       "badge": badge})
    NAVIGATION.sort(key=lambda item: item["order"])


def navigation():
    caller = g.get("caller") if g.get("web_page") else None
    role = caller and caller["role"]
    items = []
    for item in NAVIGATION:
        roles = item["roles"]
        if roles is not None and (caller is None or (roles and not _role_in(role, roles))):
            continue
        url = url_for(item["endpoint"])
        items.append({"url": url, "label": i18n.translated(item["label"]),
                      "current": request.path == url,
                      "badge": _badge(item["badge"], caller)})
    return items


def _role_in(role, roles):
    return role in roles or (role == "admin" and "organizer" in roles)


def _badge(badge, caller):
    """A count in the menu never breaks the page: without it, the link is still there."""
    if badge is None or caller is None:
        return None
    try:
        return badge(caller) or None
    except Exception:
        log.warning("a menu badge failed", exc_info=True)
        return None


# --- the blueprint every area uses ---------------------------------------------------------

def web_blueprint(area, url_prefix=None):
    """``web_<area>``: its views see the session's caller in ``g.caller``, its forms are
    checked for the CSRF token, and its errors are pages in the visitor's language."""
    blp = Blueprint(f"web_{area}", HERE, url_prefix=url_prefix, template_folder="templates")
    blp.before_request(_before_page)
    blp.register_error_handler(DomainError, _from_domain_error)
    blp.register_error_handler(HTTPException, _from_http_exception)
    blp.register_error_handler(ServiceUnavailable, _unavailable)
    blp.register_error_handler(BackendUnavailable, _unavailable)
    blp.register_error_handler(Exception, _unexpected)
    return blp


def _before_page():
    g.web_page = True
    g.caller = session_caller()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


def _context():
    caller = g.get("caller") if g.get("web_page") else None
    return {"caller": caller, "language": i18n.language(), "here": _here(),
            "languages": i18n.LANGUAGES, "navigation": navigation}


assets = Blueprint("web_assets", HERE, static_folder="static", static_url_path="/aset")


def shown_name(name):
    """A name as a link's text: one with no visible character (the API takes any storable
    text) would make a link nobody can read or click, so it gets a stand-in."""
    if name and any(character.isprintable() and not character.isspace() for character in name):
        return name
    return i18n.gettext("(tanpa nama)")


def register(app):
    csrf.init_app(app)
    app.jinja_env.filters["shown_name"] = shown_name
    app.register_blueprint(assets)
    app.context_processor(_context)
    app.register_error_handler(NotFound, _html_not_found)
