"""Accounts and tokens: POST /accounts, POST /auth/token, GET /me."""
from flask import g, request
from flask_smorest import Blueprint

from backbone.errors import NotFound, Unauthorized
from services.gateway import auth
from services.gateway.http import IDEMPOTENCY_KEY_DOC, idempotency_key, json_body, reply
from services.gateway.rpc import call
from services.gateway.schemas import Token
from services.registry import schemas

blp = Blueprint("accounts", __name__, url_prefix="/api/v1",
                description="Sign up, log in, and who am I.")


@blp.post("/accounts")
@blp.doc(**IDEMPOTENCY_KEY_DOC)
@blp.arguments(schemas.AccountCreate)
@blp.alt_response(201, schema=schemas.Account, success=True,
                  description="The new account. Buyers and vendors sign themselves up; "
                              "only an admin creates organizers.")
def create_account(_):
    return reply(call("registry", "create_account", g.caller, json_body(),
                      idempotency_key=idempotency_key()), 201)


@blp.post("/auth/token")
@blp.arguments(schemas.Credentials)
@blp.alt_response(200, schema=Token, success=True,
                  description="A bearer token. 401 on bad credentials, 429 after too many "
                              "failed attempts (see Retry-After).")
def issue_token(_):
    account = call("registry", "authenticate", json_body(), request.remote_addr)
    return reply(auth.issue_token(account))


@blp.get("/me")
@auth.requires()
@blp.alt_response(200, schema=schemas.Account, success=True)
@blp.doc(security=[{"bearer": []}])
def me():
    try:
        return reply(call("registry", "get_account", g.caller["account_id"]))
    except NotFound:
        raise Unauthorized("The account behind this token no longer exists.") from None
