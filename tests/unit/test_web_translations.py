"""Every message of the web pages has its English, and every English entry is still used."""
import pathlib

from babel.messages.extract import extract_from_dir

from services.gateway.web import i18n

WEB = pathlib.Path(i18n.__file__).resolve().parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def messages_of_the_pages():
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, keywords=KEYWORDS, options_map=OPTIONS):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def english_entries():
    return {message for message in i18n.catalogue("en")._catalog if isinstance(message, str)
            and message}


def test_every_message_of_the_pages_has_its_english():
    missing = sorted(messages_of_the_pages() - english_entries())
    assert missing == [], f"add to services/gateway/web/translations/en/: {missing}"


def test_no_english_entry_is_left_for_a_message_no_page_uses():
    unused = sorted(english_entries() - messages_of_the_pages())
    assert unused == [], f"no page uses: {unused}"


def test_the_pages_find_their_messages():
    assert "Masuk ke Ngalam Laris" in messages_of_the_pages()
