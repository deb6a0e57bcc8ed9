"""The banner `make run` prints once the demo data is loaded."""
import yaml

from demodata import registry
from demodata.__main__ import banner


def test_the_banner_shows_the_urls_and_the_demo_logins_of_the_demo_data(monkeypatch):
    monkeypatch.setenv("LARIS_ADMIN_EMAIL", "admin@laris.local")
    monkeypatch.setenv("LARIS_ADMIN_PASSWORD", "laris-dev-admin")
    demo = yaml.safe_load(registry.DATA.read_text())

    text = banner("http://127.0.0.1:8000/", demo)

    assert "  web pages  http://127.0.0.1:8000/  (Bahasa Indonesia; ?lang=en for English)\n" \
        in text
    assert "  API        http://127.0.0.1:8000/api/v1\n" in text
    assert "  API docs   http://127.0.0.1:8000/api/v1/docs\n" in text
    assert "  readiness  http://127.0.0.1:8000/readyz\n" in text
    assert "  admin      admin@laris.local / laris-dev-admin\n" in text
    assert f"  demo logins, password {demo['password']}:\n" in text
    assert f"    organizer  {demo['organizers'][0]['email']}\n" in text
    assert (f"    vendor     {demo['vendors'][0]['email']} "
            f"(and {len(demo['vendors']) - 1} more)\n") in text
    assert (f"    buyer      {demo['buyers'][0]['email']} "
            f"(and {len(demo['buyers']) - 1} more)\n") in text
    assert len(text.splitlines()) < 15  # short: one screen glance


def test_without_an_admin_the_banner_says_so(monkeypatch):
    monkeypatch.delenv("LARIS_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("LARIS_ADMIN_PASSWORD", raising=False)

    text = banner("http://127.0.0.1:8000", {"password": "x", "organizers": []})

    assert "  admin      none: LARIS_ADMIN_EMAIL/LARIS_ADMIN_PASSWORD unset\n" in text
