"""Each person's inbox: what the system told them (orders, verification, booth decisions)."""
from flask_smorest import Blueprint

from services.gateway.routes import route
from services.notify import contract

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="The caller's own notifications, in their language.")

route(blp, "GET", "/notifications", "notify.list_notifications", roles=(),
      query=contract.NotificationListQuery, response=contract.NotificationPage,
      description="The caller's inbox, newest first, with the count of unread ones.")
route(blp, "POST", "/notifications/<notification_id>/read", "notify.mark_read", roles=(),
      response=contract.Notification,
      description="Marks it read (again: no change); 404 for a notification not the "
                  "caller's.")
