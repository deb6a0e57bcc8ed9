"""Real headless Chromium (Debian's, /usr/bin/chromium) driven by Playwright, for the web
pages' tests: no browser download (scripts/ensure-chromium.sh installs the package).

Every page a test visits can be saved as a screenshot (build/screenshots/<name>.png) and checked
for accessibility basics with axe-core (``accessibility_problems``)."""
import os
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("LARIS_CHROMIUM", "/usr/bin/chromium")
# What a page must never have: axe-core's serious and critical findings (missing labels and
# alt text, too little contrast, no lang attribute...).
BLOCKING_IMPACTS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}


def chromium_path():
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium is not installed: run scripts/ensure-chromium.sh")
    return path


def launch(playwright):
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    return playwright.chromium.launch(executable_path=chromium_path(),
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])


def screenshot(page, name):
    """The whole page as build/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def accessibility_problems(page):
    """axe-core's serious or critical findings on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            f"{[node['target'] for node in violation['nodes']][:3]}"
            for violation in results.response["violations"]
            if violation["impact"] in BLOCKING_IMPACTS]
