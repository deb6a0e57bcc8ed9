"""A small client of the gateway's API for the demo loader (and for each later loader)."""
import time

import requests


class ApiError(Exception):
    pass


class Gateway:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self._tokens = {}

    def wait_ready(self, seconds):
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.http.get(f"{self.base_url}/readyz", timeout=5)
                if last.status_code == 200:
                    return
            except requests.ConnectionError as exc:
                last = exc
            time.sleep(1)
        raise ApiError(f"the gateway was not ready within {seconds}s: {last}")

    def request(self, method, path, *, token=None, ok=(200, 201), tolerate=(), **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, f"{self.base_url}/api/v1{path}", headers=headers,
                                     timeout=30, **kwargs)
        if response.status_code in ok or response.status_code in tolerate:
            return response
        raise ApiError(f"{method} {path} -> {response.status_code}: {response.text}")

    def token(self, email, password):
        if email not in self._tokens:
            body = self.request("POST", "/auth/token",
                                json={"email": email, "password": password}).json()
            self._tokens[email] = body["access_token"]
        return self._tokens[email]

    def ensure_account(self, account, password, role, admin_token=None):
        """Create the account unless its e-mail is taken; True if it was created now. The admin
        creates them all: sign-ups from one client are throttled, the admin's are not."""
        response = self.request(
            "POST", "/accounts", token=admin_token,
            json={"email": account["email"], "password": password, "name": account["name"],
                  "role": role, "phone": account.get("phone")}, tolerate=(409,))
        return response.status_code == 201
