"""The Malang City Expo: expos, booths on the floor plan and applications for them."""
from flask_smorest import Blueprint

from services.expo import contract
from services.gateway.routes import route

blp = Blueprint("expos", __name__, url_prefix="/api/v1",
                description="The Malang City Expo: floor plans, booths and applications.")

route(blp, "POST", "/expos", "expo.create_expo", roles=("organizer",),
      body=contract.ExpoCreate, response=contract.Expo, status=201,
      description="The application window defaults to today (WIB) until the day before the "
                  "expo starts; zones may name the registry sectors they welcome.")
route(blp, "GET", "/expos", "expo.list_expos", caller=False, query=contract.ExpoListQuery,
      response=contract.ExpoPage, description="Latest expo first.")
route(blp, "GET", "/expos/<expo_id>", "expo.get_expo", caller=False, response=contract.Expo)
route(blp, "POST", "/expos/<expo_id>/booths", "expo.add_booths", roles=("organizer",),
      body=contract.BoothsCreate, response=contract.BoothList, status=201,
      description="409 when a code is given twice or already on the plan; 422 naming the "
                  "booths whose rectangles overlap.")
route(blp, "GET", "/expos/<expo_id>/booths", "expo.list_booths", caller=False,
      response=contract.BoothList,
      description="Every booth with its status and, once held or allocated, its business.")
route(blp, "POST", "/expos/<expo_id>/applications", "expo.submit_application",
      roles=("vendor",), body=contract.ApplicationCreate, response=contract.Application,
      status=201, idempotent=True,
      description="By the owner of a verified business, inside the application window; 409 "
                  "if the business already applied.")
route(blp, "GET", "/expos/<expo_id>/applications", "expo.list_applications",
      roles=("organizer", "vendor"), query=contract.ApplicationListQuery,
      response=contract.ApplicationPage,
      description="Oldest first. Organizers see all; a vendor sees their own.")
route(blp, "POST", "/expos/<expo_id>/applications/<application_id>/flagship",
      "expo.mark_flagship", roles=("organizer",), body=contract.FlagshipMark,
      response=contract.Application,
      description="Marks the business's products as the city's produk unggulan for this expo.")
route(blp, "POST", "/expos/<expo_id>/allocations", "expo.run_allocation", roles=("organizer",),
      response=contract.AllocationRun,
      description="Places new and waitlisted applications by the documented score under the "
                  "hard rules (docs/allocation.md); never moves an exhibitor already placed. "
                  "Every decision carries its reasons in Indonesian and English.")
route(blp, "DELETE", "/expos/<expo_id>/allocations/<booth_code>", "expo.free_booth",
      roles=("organizer", "vendor"), response=contract.BoothFreed,
      description="By an organizer or the vendor holding the booth; the best-fitting "
                  "waitlisted applicant is offered it, as a hold that expires.")
route(blp, "PUT", "/expos/<expo_id>/allocations/<booth_code>", "expo.place_manually",
      roles=("organizer",), body=contract.ManualPlacement, response=contract.Application,
      description="Places (or moves) an exhibitor by hand with a reason; the hard rules still "
                  "hold (422 naming the rule) and no later run moves it.")
route(blp, "POST", "/expos/<expo_id>/applications/<application_id>/accept",
      "expo.accept_offer", roles=("vendor",), response=contract.Application,
      description="The applicant accepts a booth offered to it before the hold expires.")
route(blp, "POST", "/expos/<expo_id>/applications/<application_id>/decline",
      "expo.decline_offer", roles=("vendor",), response=contract.Application,
      description="The applicant declines; the booth is offered to the next in line.")
route(blp, "PUT", "/expos/<expo_id>/booths/<booth_code>/block", "expo.block_booth",
      roles=("organizer",), body=contract.BoothBlock, response=contract.Booth,
      description="Blocks a free booth (no run or offer uses it), or unblocks it, with a "
                  "reason kept in its history; 409 for a booth held or allocated.")
route(blp, "GET", "/expos/<expo_id>/booths/<booth_code>/history", "expo.booth_history",
      roles=("organizer",), response=contract.BoothHistory,
      description="Every change of the booth's state: who, when and why.")
route(blp, "GET", "/expos/<expo_id>/floorplan.svg", "expo.floorplan", caller=False,
      query=contract.FloorplanQuery, mimetype="image/svg+xml",
      description="The floor plan drawn to scale, booths coloured by status.")
