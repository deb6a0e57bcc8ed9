"""The Ngalam Laris catalogue of the demo: a few Malang products for each business of the expo
demo (demodata/marketplace.yaml), listed by their own vendors.

Runs after the expo's loader, whose businesses are verified by then; the marketplace learns of
a verification from the registry's facts, a moment after it was made, so a listing refused as
not verified is asked again a little later.
"""
import logging
import pathlib
import time

import yaml

from demodata import expo, registry
from demodata.client import ApiError

log = logging.getLogger(__name__)
DATA = pathlib.Path(__file__).with_name("marketplace.yaml")
NOT_VERIFIED_YET = "not verified"
VERIFIED_POLLS = 30
VERIFIED_POLL_SECONDS = 1.0


def load(gateway):
    data = yaml.safe_load(DATA.read_text())
    password = yaml.safe_load(registry.DATA.read_text())["password"]
    created = {"products": 0}
    rotation = {}
    for vendor_email, business_name in expo_businesses():
        token = gateway.token(vendor_email, password)
        business = registry._find_own(gateway, token, business_name)
        if business is None:
            raise ApiError(f"{business_name} is not among {vendor_email}'s businesses")
        wanted = products_for(business, data, rotation)
        listed = _listed_names(gateway, business["id"])
        for product in wanted:
            if product["name"] not in listed:
                _list(gateway, token, business, product)
                created["products"] += 1
    log.info("demo catalogue loaded", extra=created)
    return created


def expo_businesses():
    """(vendor e-mail, business name) of every business of the expo demo, in file order."""
    data = yaml.safe_load(expo.DATA.read_text())
    for wish in data["registry_applicants"]:
        yield wish["vendor"], wish["business"]
    for vendor in data["vendors"]:
        for business in vendor["businesses"]:
            yield vendor["email"], business["name"]


def products_for(business, data, rotation):
    """The business's own products, or ``per_business`` of its sector's, taken in turn
    (``rotation`` remembers where each sector's list stands) so neighbours differ."""
    if business["name"] in data["businesses"]:
        return data["businesses"][business["name"]]
    choices = data["by_sector"][business["sector"]]
    start = rotation.get(business["sector"], 0)
    count = min(data["per_business"], len(choices))
    rotation[business["sector"]] = start + count
    return [choices[(start + offset) % len(choices)] for offset in range(count)]


def _listed_names(gateway, business_id):
    return {product["name"] for product in expo._pages(
        gateway, f"/products?business_id={business_id}", None)}


def _list(gateway, token, business, product):
    body = product | {"business_id": business["id"]}
    for _ in range(VERIFIED_POLLS):
        response = gateway.request("POST", "/products", token=token, json=body,
                                   tolerate=(409,))
        if response.status_code == 201:
            return response.json()
        if NOT_VERIFIED_YET not in response.text:
            break
        time.sleep(VERIFIED_POLL_SECONDS)
    raise ApiError(f"POST /products for {business['name']} -> {response.status_code}: "
                   f"{response.text}")
