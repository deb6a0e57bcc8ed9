"""The registry of koperasi and UMKM: registration, verification, certifications, readiness."""
from flask_smorest import Blueprint

from services.gateway.routes import route
from services.registry import contract

blp = Blueprint("businesses", __name__, url_prefix="/api/v1",
                description="Cooperatives (koperasi) and MSMEs (UMKM) of Malang.")

route(blp, "POST", "/businesses", "registry.register_business", roles=("vendor",),
      body=contract.BUSINESS_CREATE_DOCUMENT, response=contract.Business, status=201,
      idempotent=True,
      description="Registered, pending verification by the city.")
route(blp, "GET", "/businesses", "registry.list_businesses", roles=("organizer", "vendor"),
      query=contract.BusinessListQuery, response=contract.BusinessPage,
      description="Newest first. Organizers see all; a vendor sees their own.")
route(blp, "GET", "/businesses/<business_id>", "registry.get_business",
      response=contract.Business, etag=True,
      description="Anyone sees a verified business's public fields; the owner and organizers "
                  "see everything, readiness details and the version (also the ETag) included.")
route(blp, "PATCH", "/businesses/<business_id>", "registry.update_business", roles=("vendor",),
      body=contract.BusinessUpdate, response=contract.Business, etag=True,
      description="Contact details and packaging at any time; the legal identity only until "
                  "verified (409 after).")
route(blp, "POST", "/businesses/<business_id>/verification", "registry.decide_verification",
      roles=("organizer",), body=contract.VerificationDecision,
      response=contract.VerificationResult, headers={"If-Match": "if_match"},
      description="Send the version you reviewed (If-Match with the ETag, or `version`): 409 "
                  "when the business changed since, or when its status does not allow the "
                  "decision.")
route(blp, "POST", "/businesses/<business_id>/resubmission", "registry.resubmit_business",
      roles=("vendor",), response=contract.Business,
      description="A rejected business, corrected, goes back to pending.")
route(blp, "POST", "/businesses/<business_id>/certifications", "registry.add_certification",
      roles=("vendor",), body=contract.CERTIFICATION_CREATE_DOCUMENT,
      response=contract.Certification,
      status=201, idempotent=True,
      description="Claimed by the owner; it counts for export readiness and badges once an "
                  "organizer confirms it.")
route(blp, "POST", "/businesses/<business_id>/certifications/<certification_id>/review",
      "registry.review_certification", roles=("organizer",), body=contract.CertificationReview,
      response=contract.Certification,
      description="An organizer confirms or refuses (with a reason) a claimed certification.")
route(blp, "GET", "/export-rules", "registry.export_rules", caller=False,
      response=contract.ExportRulesSummary,
      description="Sectors, packaging materials, certifications and markets known to the "
                  "export-readiness rules.")
