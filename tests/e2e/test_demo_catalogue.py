"""The demo data's catalogue, loaded as `make run` loads it: every business of the expo demo
has products a buyer finds at once, and loading again lists nothing twice."""
import json
import subprocess
import sys

import yaml

from demodata import expo


def _load_demo(system):
    result = subprocess.run([sys.executable, "-m", "demodata", "--url", system.base_url],
                            env=system.env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = [json.loads(line) for line in result.stdout.splitlines() + result.stderr.splitlines()
              if line.startswith("{") and "demo catalogue loaded" in line]
    return loaded[-1]["products"]


def test_the_demo_catalogue_loads_once_and_buyers_find_malang_products(api, system):
    first = _load_demo(system)
    assert first >= 3 * len(yaml.safe_load(expo.DATA.read_text())["registry_applicants"])
    assert _load_demo(system) == 0
    # Other tests of the session list products of that name too: the demo's is among the first.
    found = api.get("/products", params={"q": "kripik tempe sanan", "limit": 100}).json()["items"]
    assert all("tempe" in product["name"].lower() for product in found[:5])
    assert ("Keripik Tempe Sanan Original", "Keripik Tempe Sanan Bu Siti") in {
        (product["name"], product["vendor"]["name"]) for product in found}
    facets = api.get("/products").json()["facets"]
    assert {facet["value"] for facet in facets["category"]} >= {
        "makanan_minuman", "kopi_teh", "batik_fashion", "kerajinan"}
