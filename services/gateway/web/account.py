"""Log in, sign up, log out, and the language switch's home: /masuk, /daftar, /keluar."""
from flask import current_app, flash, g, redirect, request, url_for

from services.gateway.web import i18n
from services.gateway.web.pages import (attempt, call_anonymous, done, form_status, log_in,
                                        log_out, render, safe_next, web_blueprint)

blp = web_blueprint("account")
SELF_SERVICE_ROLES = ("buyer", "vendor")


@blp.get("/masuk")
def log_in_page():
    if g.caller is not None:
        return redirect(safe_next(request.args.get("next"), default=home_of(g.caller)))
    # No destination: after the log-in, the desk of the account's role (home_of).
    return render("akun/masuk.html", next=safe_next(request.args.get("next"), default=""),
                  form={})


@blp.post("/masuk")
def log_in_submit():
    form = {"email": request.form.get("email", "").strip(),
            "password": request.form.get("password", "")}
    account, error = attempt(lambda: call_anonymous(
        "registry", "authenticate", form, client=request.remote_addr))
    if error:
        return render("akun/masuk.html", status=form_status(error), error=error,
                      next=safe_next(request.form.get("next"), default=""),
                      form={"email": form["email"]})
    log_in(account)
    flash(i18n.gettext("Selamat datang kembali."), "ok")
    caller = {"account_id": account["id"], "role": account["role"]}
    return redirect(safe_next(request.form.get("next"), default=home_of(caller)))


@blp.get("/daftar")
def sign_up_page():
    return render("akun/daftar.html", form={"role": request.args.get("peran", "buyer")},
                  roles=SELF_SERVICE_ROLES)


@blp.post("/daftar")
def sign_up_submit():
    form = {name: request.form.get(name, "").strip() for name in ("email", "name", "role")}
    form["password"] = request.form.get("password", "")
    form["locale"] = i18n.language()
    _, error = attempt(lambda: call_anonymous(
        "registry", "create_account", None, form, client=request.remote_addr))
    if error:
        return render("akun/daftar.html", status=form_status(error), error=error,
                      form=form, roles=SELF_SERVICE_ROLES)
    account, error = attempt(lambda: call_anonymous(
        "registry", "authenticate", {"email": form["email"], "password": form["password"]},
        client=request.remote_addr))
    if error:
        return redirect(url_for("web_account.log_in_page"))
    log_in(account)
    return done(i18n.gettext("Akun Anda sudah dibuat."), "web_account.landing")


@blp.post("/keluar")
def log_out_submit():
    log_out()
    return done(i18n.gettext("Anda sudah keluar."), "web_account.landing")


@blp.get("/selamat-datang")
def landing():
    """Where a log-in without a destination lands: the desk of the caller's role."""
    return redirect(home_of(g.caller))


def home_of(caller):
    """Each role's desk, once that area is registered; the home page otherwise."""
    endpoint = {"vendor": "web_vendor.desk", "organizer": "web_organizer.desk",
                "admin": "web_organizer.desk", "buyer": "web_buyer.orders"}.get(
        caller and caller["role"])
    if endpoint and endpoint in current_app.view_functions:
        return url_for(endpoint)
    if "web_public.home" in current_app.view_functions:
        return url_for("web_public.home")
    return "/"

