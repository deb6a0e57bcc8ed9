"""The registry of koperasi and UMKM: registration, verification, certifications, readiness."""
from flask import g
from flask_smorest import Blueprint

from services.gateway import auth
from services.gateway.http import (IDEMPOTENCY_KEY_DOC, idempotency_key, json_body, query_args,
                                   reply)
from services.gateway.rpc import call
from services.registry import schemas

blp = Blueprint("businesses", __name__, url_prefix="/api/v1",
                description="Cooperatives (koperasi) and MSMEs (UMKM) of Malang.")
BEARER = [{"bearer": []}]


@blp.post("/businesses")
@auth.requires("vendor")
@blp.doc(**IDEMPOTENCY_KEY_DOC)
@blp.arguments(schemas.BusinessCreate)
@blp.alt_response(201, schema=schemas.Business, success=True,
                  description="Registered, pending verification by the city.")
@blp.doc(security=BEARER)
def register_business(_):
    return reply(call("registry", "register_business", g.caller, json_body(),
                      idempotency_key=idempotency_key()), 201)


@blp.get("/businesses")
@auth.requires("organizer", "vendor")
@blp.arguments(schemas.BusinessListQuery, location="query")
@blp.alt_response(200, schema=schemas.BusinessPage, success=True,
                  description="Newest first. Organizers see all; a vendor sees their own.")
@blp.doc(security=BEARER)
def list_businesses(_):
    return reply(call("registry", "list_businesses", g.caller, query_args()))


@blp.get("/businesses/<business_id>")
@blp.alt_response(200, schema=schemas.Business, success=True,
                  description="Anyone sees a verified business's public fields; the owner "
                              "and organizers see everything, readiness details included.")
def get_business(business_id):
    return reply(call("registry", "get_business", g.caller, business_id))


@blp.patch("/businesses/<business_id>")
@auth.requires("vendor")
@blp.arguments(schemas.BusinessUpdate)
@blp.alt_response(200, schema=schemas.Business, success=True,
                  description="Contact details and packaging at any time; the legal identity "
                              "only until verified (409 after).")
@blp.doc(security=BEARER)
def update_business(_, business_id):
    return reply(call("registry", "update_business", g.caller, business_id, json_body()))


@blp.post("/businesses/<business_id>/verification")
@auth.requires("organizer")
@blp.arguments(schemas.VerificationDecision)
@blp.alt_response(200, schema=schemas.VerificationResult, success=True,
                  description="409 when the business's status does not allow the decision.")
@blp.doc(security=BEARER)
def decide_verification(_, business_id):
    return reply(call("registry", "decide_verification", g.caller, business_id, json_body()))


@blp.post("/businesses/<business_id>/resubmission")
@auth.requires("vendor")
@blp.alt_response(200, schema=schemas.Business, success=True,
                  description="A rejected business, corrected, goes back to pending.")
@blp.doc(security=BEARER)
def resubmit_business(business_id):
    return reply(call("registry", "resubmit_business", g.caller, business_id))


@blp.post("/businesses/<business_id>/certifications")
@auth.requires("vendor")
@blp.doc(**IDEMPOTENCY_KEY_DOC)
@blp.arguments(schemas.CertificationCreate)
@blp.alt_response(201, schema=schemas.Certification, success=True)
@blp.doc(security=BEARER)
def add_certification(_, business_id):
    return reply(call("registry", "add_certification", g.caller, business_id, json_body(),
                      idempotency_key=idempotency_key()), 201)


@blp.get("/export-rules")
@blp.alt_response(200, schema=schemas.ExportRulesSummary, success=True,
                  description="Sectors, packaging materials, certifications and markets known "
                              "to the export-readiness rules.")
def export_rules():
    return reply(call("registry", "export_rules"))
