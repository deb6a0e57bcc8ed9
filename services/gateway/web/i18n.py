"""Indonesian first, English on request.

The pages are written in Indonesian: a template's text is its own message id, and
``translations/en/<area>.po`` (the standard gettext format, read at start-up with Babel, so
there is no compile step) gives the English. Messages the services send (in English, e.g. a
field's validation error) are shown in Indonesian through ``translations/id_services/``.

The language is the visitor's choice, kept in a cookie: ``?lang=en`` or ``?lang=id`` on any
page switches it. Money and dates are formatted for the language, dates in Malang's time.
"""
import datetime as dt
import functools
import io
import pathlib
import urllib.parse

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import g, request

from backbone import clock

HERE = pathlib.Path(__file__).resolve().parent / "translations"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANGUAGE_COOKIE = "laris_bahasa"
MALANG = clock.WIB
BABEL_LOCALE = {"id": "id_ID", "en": "en_US"}


@functools.cache
def catalogue(name):
    """The translations in ``translations/<name>/*.po`` (one file per area of the site),
    compiled in memory."""
    merged = None
    for path in sorted((HERE / name).glob("*.po")):
        with open(path, "rb") as po:
            messages = read_po(po)
        if merged is None:
            merged = messages
        else:
            for message in messages:
                if message.id:
                    merged[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return Translations(fp=compiled)


def language():
    if "language" not in g:
        asked = request.args.get("lang")
        kept = request.cookies.get(LANGUAGE_COOKIE)
        g.language = next((lang for lang in (asked, kept) if lang in LANGUAGES),
                          DEFAULT_LANGUAGE)
        g.language_changed = asked in LANGUAGES and asked != kept
    return g.language


def _page_translations():
    return NullTranslations() if language() == "id" else catalogue("en")


def gettext(message, **variables):
    translated = _page_translations().gettext(message)
    return translated % variables if variables else translated


def translated(message):
    """A message named elsewhere (marked with ``N_``), in the page's language."""
    return _page_translations().gettext(message)


def ngettext(singular, plural, n, **variables):
    translated = _page_translations().ngettext(singular, plural, n)
    return translated % dict(variables, num=n)


def service_message(message):
    """A service's (English) message in the page's language, as it is when not catalogued."""
    if language() == "en" or not message:
        return message
    return catalogue("id_services").gettext(message)


def rupiah(amount):
    """Whole Rupiah as Malang reads them: Rp 36.000 (Rp 36,000 in English)."""
    if amount is None:
        return ""
    return "Rp " + numbers.format_decimal(amount, locale=BABEL_LOCALE[language()])


def when(moment, form="medium"):
    """A timestamp (ISO text or datetime) in Malang's time, in the page's language."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return dates.format_datetime(moment, form, tzinfo=MALANG, locale=BABEL_LOCALE[language()])


def day(value, form="medium"):
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return dates.format_date(value, form, locale=BABEL_LOCALE[language()])


def in_language(lang):
    """This page's address in another language, its other query parameters kept."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return request.path + "?" + urllib.parse.urlencode(args, doseq=True)


def _remember_choice(response):
    if g.get("language_changed"):
        response.set_cookie(LANGUAGE_COOKIE, g.language, max_age=365 * 24 * 3600,
                            httponly=True, samesite="Lax")
    return response


def register(app):
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)
    app.jinja_env.filters.update(rupiah=rupiah, when=when, day=day,
                                 service_message=service_message)
    app.jinja_env.globals.update(in_language=in_language)
    app.after_request(_remember_choice)
