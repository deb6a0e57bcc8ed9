"""Bearer tokens: signed JWTs (HS256) that expire, and the role check every route makes."""
import datetime as dt
import functools
import uuid

import jwt
from flask import current_app, g, request

from backbone import clock
from backbone.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"


def issue_token(account):
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    now = clock.now()
    claims = {"sub": account["id"], "role": account["role"], "iat": now,
              "exp": now + dt.timedelta(seconds=ttl), "jti": uuid.uuid4().hex}
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
                            options={"require": ["exp", "iat", "sub", "role", "jti"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired; log in again.") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The token is not valid.") from None
    return {"account_id": claims["sub"], "role": claims["role"]}


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
