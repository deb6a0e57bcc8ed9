"""Speaking to the gateway as its users do."""
import datetime as dt
import itertools
import random
import uuid

import requests

_serial = itertools.count(1)


class Api:
    def __init__(self, system):
        self.system = system
        self.http = requests.Session()

    def call(self, method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.system.url(f"/api/v1{path}"), headers=headers,
                                 timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.call("PATCH", path, **kwargs)

    # --- people -----------------------------------------------------------------------------

    def login(self, email, password):
        response = self.post("/auth/token", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def admin_token(self):
        return self.login(*self.system.admin)

    def new_account(self, role, admin_token=None, password="rahasia-123"):
        email = f"{role}-{uuid.uuid4().hex[:10]}@test.laris.local"
        # Each from its own client address, so the sign-up throttle never counts fixtures.
        response = self.post("/accounts", token=admin_token, headers=client_address(), json={
            "email": email, "password": password, "name": f"Test {role.title()}", "role": role})
        assert response.status_code == 201, response.text
        account = response.json()
        account["token"] = self.login(email, password)
        account["password"] = password
        return account

    # --- businesses -------------------------------------------------------------------------

    def register_business(self, vendor, **overrides):
        response = self.post("/businesses", token=vendor["token"],
                             json=business_body(**overrides))
        assert response.status_code == 201, response.text
        return response.json()

    def verify(self, organizer, business_id, decision="verified", note=None, **kwargs):
        return self.post(f"/businesses/{business_id}/verification", token=organizer["token"],
                         json={"decision": decision, "note": note}, **kwargs)

    def review_certification(self, organizer, business_id, certification_id,
                             decision="confirmed", note=None):
        return self.post(
            f"/businesses/{business_id}/certifications/{certification_id}/review",
            token=organizer["token"], json={"decision": decision, "note": note})

    # --- expos ------------------------------------------------------------------------------

    def create_expo(self, organizer, **overrides):
        response = self.post("/expos", token=organizer["token"], json=expo_body(**overrides))
        assert response.status_code == 201, response.text
        return response.json()


_CLIENTS = itertools.count()


def client_address():
    """A client address no other call of the session gave, as a trusted proxy reports it: a
    random one would now and then be a flooder's, which the sign-up throttle has refused."""
    number = next(_CLIENTS)
    return {"X-Forwarded-For": f"198.51.{number // 254 % 256}.{number % 254 + 1}"}


def unique_nib():
    return f"{random.randrange(10**12, 10**13)}"


def expo_body(**overrides):
    """An expo two months ahead, open for applications from today."""
    starts = dt.date.today() + dt.timedelta(days=60)
    body = {"name": f"Malang City Expo {next(_serial)}", "venue": "Gedung Kartini, Klojen",
            "starts_on": starts.isoformat(),
            "ends_on": (starts + dt.timedelta(days=3)).isoformat(),
            "theme": "A Celebration of Local Creation"}
    return body | overrides


def business_body(**overrides):
    body = {
        "name": f"Keripik Tempe Sanan {next(_serial)} {uuid.uuid4().hex[:4]}",
        "kind": "umkm",
        "kecamatan": "blimbing",
        "address": "Jl. Sanan No. 12, Purwantoro, Blimbing",
        "phone": "0812-3456-7890",
        "email": "keripik@example.id",
        "sector": "kuliner",
        "nib": unique_nib(),
        "packaging": ["plastic", "paper"],
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}
