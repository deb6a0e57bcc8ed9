"""A name with no visible character still makes a link people can read and click."""
from flask import Flask

from services.gateway.web.pages import shown_name


def test_a_name_without_a_visible_character_gets_a_stand_in():
    with Flask(__name__).test_request_context("/"):
        assert shown_name("Keripik Tempe Sanan") == "Keripik Tempe Sanan"
        assert shown_name(" \u0085\x1f ") == "(tanpa nama)"
        assert shown_name("") == "(tanpa nama)"
    with Flask(__name__).test_request_context("/?lang=en"):
        assert shown_name("\t") == "(no name)"
