"""Bearer tokens: signed JWTs (HS256) that expire, and the role check every route makes.

A token carries its account's token version (claim ``tv``). A role or password change gives
the account a new one, and the gateway refuses a token of an older version. It asks the
registry (``token_state``) and trusts the answer for LARIS_TOKEN_CHECK_SECONDS, so an
outdated token stops working within that time.
"""
import datetime as dt
import functools
import threading
import uuid

import jwt
from flask import current_app, g, request

from backbone import clock, config
from backbone.errors import Forbidden, Unauthorized
from services.gateway.rpc import call

ALGORITHM = "HS256"
# Beyond this many remembered accounts, the expired entries are dropped.
TOKEN_STATES_PRUNE_AT = 10_000


def issue_token(account):
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    now = clock.now()
    claims = {"sub": account["id"], "role": account["role"], "iat": now,
              "exp": now + dt.timedelta(seconds=ttl), "jti": uuid.uuid4().hex,
              "tv": account["token_version"]}
    token = jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl,
            "role": account["role"], "account_id": account["id"]}


def caller_from_request():
    """The authenticated caller ``{account_id, role}``, None if anonymous; 401 on a bad token."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send the token as 'Authorization: Bearer <token>'.")
    try:
        # The leeway lets gateways whose clocks differ by a few seconds agree on iat and exp.
        claims = jwt.decode(token.strip(), current_app.config["SECRET_KEY"],
                            algorithms=[ALGORITHM],
                            leeway=current_app.config["TOKEN_LEEWAY_SECONDS"],
                            options={"require": ["exp", "iat", "sub", "role", "jti", "tv"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired; log in again.") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The token is not valid.") from None
    _check_current(claims)
    return {"account_id": claims["sub"], "role": claims["role"]}


def is_current(account_id, token_version):
    """Whether a session or token of this account version still stands (see the module)."""
    state = _token_states().get(account_id)
    return state is not None and state["token_version"] == token_version


def _check_current(claims):
    state = _token_states().get(claims["sub"])
    if state is None:
        raise Unauthorized("The account behind this token no longer exists.")
    if state["token_version"] != claims["tv"]:
        raise Unauthorized("This token was replaced (the account's role or password changed); "
                           "log in again.")


def _token_states():
    states = current_app.extensions.get("token_states")
    if states is None:
        states = current_app.extensions.setdefault("token_states", TokenStates(
            dt.timedelta(seconds=config.env_float("LARIS_TOKEN_CHECK_SECONDS")),
            lambda account_id: call("registry", "token_state", account_id)))
    return states


class TokenStates:
    """The registry's last answer about each account's tokens, trusted for ``ttl``: one RPC
    per account every few seconds instead of one per request. Shared by the gateway's
    threads."""

    def __init__(self, ttl, fetch):
        self._ttl = ttl
        self._fetch = fetch
        self._known = {}
        self._lock = threading.Lock()

    def get(self, account_id):
        now = clock.now()
        with self._lock:
            state, fresh_until = self._known.get(account_id, (None, now))
        if fresh_until > now:
            return state
        state = self._fetch(account_id)
        with self._lock:
            if len(self._known) >= TOKEN_STATES_PRUNE_AT:
                self._known = {key: entry for key, entry in self._known.items()
                               if entry[1] > now}
            self._known[account_id] = (state, now + self._ttl)
        return state


def load_caller():
    g.caller = caller_from_request()


def requires(*roles):
    """The route needs a token; with ``roles``, one of those roles (admin passes as staff)."""
    allowed = set(roles) | ({"admin"} if "organizer" in roles else set())

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if g.caller is None:
                raise Unauthorized("This needs a token: POST /api/v1/auth/token.")
            if roles and g.caller["role"] not in allowed:
                raise Forbidden(f"This needs the role {' or '.join(sorted(allowed))}.")
            return view(*args, **kwargs)
        return guarded
    return decorate
