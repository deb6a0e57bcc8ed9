"""Accounts and tokens: POST /accounts, POST /auth/token, GET /me, POST /me/password and
PATCH /accounts/{account_id}."""
from flask_smorest import Blueprint

from services.gateway import auth
from services.gateway.routes import route
from services.gateway.schemas import Token
from services.registry import contract

blp = Blueprint("accounts", __name__, url_prefix="/api/v1",
                description="Sign up, log in, and who am I.")

route(blp, "POST", "/accounts", "registry.create_account", body=contract.AccountCreate,
      response=contract.Account, status=201, idempotent=True, client=True,
      description="The new account. Buyers and vendors sign themselves up; only an admin "
                  "creates organizers. 429 after too many sign-ups from this client, 503 "
                  "when too many passwords are being hashed (both with Retry-After).")
route(blp, "POST", "/auth/token", "registry.authenticate", caller=False,
      body=contract.Credentials, response=Token, client=True, shape=auth.issue_token,
      description="A bearer token. 401 on bad credentials; after a few failures for this "
                  "e-mail from this client, 429 with a growing Retry-After.")
route(blp, "GET", "/me", "registry.get_me", roles=(), response=contract.Account,
      description="The caller's account.")
route(blp, "POST", "/me/password", "registry.change_password", roles=(),
      body=contract.PasswordChange, response=Token, client=True, shape=auth.issue_token,
      description="Change the caller's password: a new token. Every older token of the "
                  "account, this one included, stops working. 401 if the current password "
                  "is wrong (throttled like a log-in).")
route(blp, "PATCH", "/accounts/<account_id>", "registry.change_role", roles=("admin",),
      body=contract.RoleChange, response=contract.Account,
      description="An admin changes another account's role; the account's older tokens stop "
                  "working.")
