"""The browsable API docs: Swagger UI from the pinned swagger-ui-bundle package, served by the
gateway itself, so the docs work offline and no third-party script runs on the API's origin.

flask-smorest renders ``templates/swagger_ui.html`` (ours overrides its own, which has an
inline script that the docs page's Content-Security-Policy would refuse); the page starts
Swagger UI with ``static/swagger-init.js``.
"""
import pathlib

from flask import Blueprint, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATES = str(HERE / "templates")
SWAGGER_UI_URL = "/api/v1/docs/static/"
# The page needs only these; the bundle's index.html and OAuth redirect page stay unserved.
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js",
                              "swagger-ui-standalone-preset.js", "favicon-16x16.png",
                              "favicon-32x32.png"})

blp = Blueprint("docs_assets", __name__, url_prefix="/api/v1/docs",
                static_folder="static", static_url_path="/laris")


@blp.get("/static/<filename>")
def swagger_ui_file(filename):
    if filename not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, filename)
